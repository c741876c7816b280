import { loadConfig } from './config.ts';
import { startAssignmentWorker } from './service.ts';

const worker = await startAssignmentWorker(loadConfig());
worker.lifecycle.handleSignals();
