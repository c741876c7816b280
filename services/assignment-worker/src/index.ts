export { assignmentRoutes } from './api/index.ts';
export { loadConfig } from './config.ts';
export { nextChat } from './handlers/claim.ts';
export { createBatchEventHandler, createEventHandler } from './handlers/routes.ts';
export { handleStuck, pushWaiting, releaseIdle } from './jobs/sweeps.ts';
export { type AssignmentWorker, startAssignmentWorker } from './service.ts';
