export { buildApp } from './app.ts';
export { createAuth } from './auth.ts';
export { loadConfig } from './config.ts';
export { compareSeq, createEventLog } from './event-log.ts';
export { createMetrics } from './metrics.ts';
export { CLOSE } from './protocol.ts';
export { type Realtime, startRealtime } from './service.ts';
export { isTopic, routeEvent } from './topics.ts';
