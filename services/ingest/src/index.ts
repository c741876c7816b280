export { buildApp } from './app.ts';
export { loadConfig } from './config.ts';
export { createMetrics } from './metrics.ts';
export { normalizeMailgunFields, normalizeMailgunMime } from './normalize/mailgun.ts';
export { normalizeMailgunEvent } from './normalize/mailgun-event.ts';
export { normalizeWhatsApp } from './normalize/whatsapp.ts';
export { type Ingest, startIngest } from './service.ts';
