export { type ApiDeps, registerApi } from './api/index.ts';
export { loadConfig } from './config.ts';
export { createBatchHandler } from './handlers/batch.ts';
export { type Route, route } from './handlers/route.ts';
export { routesByType } from './handlers/routes.ts';
export { closeInactiveConversations } from './inactivity.ts';
export { createMetrics } from './metrics.ts';
export * from './privacy.ts';
export { type SyncWorker, startSyncWorker } from './service.ts';
export {
  type EmailReplyHeaders,
  emailReplyHeaders,
  outboundMessageIdHeader,
  recordOutboundEmail,
} from './store/email-reply.ts';
