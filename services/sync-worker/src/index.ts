export { loadConfig } from './config.ts';
export { type SyncWorker, startSyncWorker } from './service.ts';
