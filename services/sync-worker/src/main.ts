import { loadConfig } from './config.ts';
import { startSyncWorker } from './service.ts';

const worker = await startSyncWorker(loadConfig());
worker.lifecycle.handleSignals();
