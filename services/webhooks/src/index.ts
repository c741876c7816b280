export { buildApp } from './app.ts';
export { loadConfig } from './config.ts';
export { createMetrics } from './metrics.ts';
export { AgentDeskWebhook, normalizeAgentDesk } from './routes/agent-desk.ts';
export { HelpdeskWebhook, normalizeHelpdesk } from './routes/helpdesk.ts';
export { startWebhooks, type Webhooks } from './service.ts';
