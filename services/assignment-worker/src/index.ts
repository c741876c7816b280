export { assignmentRoutes } from './api.ts';
export { nextChat } from './claim.ts';
export { loadConfig } from './config.ts';
export { createEventHandler } from './events.ts';
export { type AssignmentWorker, startAssignmentWorker } from './service.ts';
export { handleStuck, pushWaiting, releaseIdle } from './sweeps.ts';
