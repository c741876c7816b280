export { type ApiDeps, registerApi } from './api/index.ts';
export { loadConfig } from './config.ts';
export { type ErasureDeps, type ErasureResult, eraseCustomer, eraseCustomerData } from './erasure/erase.ts';
export { createBatchHandler } from './handlers/batch.ts';
export { type Route, route } from './handlers/route.ts';
export { routesByType } from './handlers/routes.ts';
export { closeInactiveConversations } from './inactivity.ts';
export { createMetrics } from './metrics.ts';
export { type ArchiveLine, archivePath, readArchive } from './retention/archive-file.ts';
export { expireRetainedData } from './retention/expire.ts';
export { type RestoreResult, restoreArchives } from './retention/restore.ts';
export { type SyncWorker, startSyncWorker } from './service.ts';
export {
  type EmailReplyHeaders,
  emailReplyHeaders,
  outboundMessageIdHeader,
  recordOutboundEmail,
} from './store/email-reply.ts';
export { readRetentionPolicy, writeRetentionPolicy } from './store/retention-policy.ts';
