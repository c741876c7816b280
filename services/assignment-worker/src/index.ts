export { handleStuck, nextChat, releaseIdle } from './assign.ts';
export { loadConfig } from './config.ts';
export { type AssignmentWorker, startAssignmentWorker } from './service.ts';
