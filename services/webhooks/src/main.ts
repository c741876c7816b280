import { loadConfig } from './config.ts';
import { startWebhooks } from './service.ts';

const webhooks = await startWebhooks(loadConfig());
webhooks.lifecycle.handleSignals();
