import { loadConfig } from './config.ts';
import { startRealtime } from './service.ts';

const realtime = await startRealtime(loadConfig());
realtime.lifecycle.handleSignals();
