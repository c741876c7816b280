import { loadConfig } from './config.ts';
import { startIngest } from './service.ts';

const ingest = await startIngest(loadConfig());
ingest.lifecycle.handleSignals();
