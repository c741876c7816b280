import { createEdgeApp } from '@switchboard/platform';
import type { FastifyInstance } from 'fastify';
import { registerAgentDesk } from './routes/agent-desk.ts';
import type { AppDeps } from './routes/deps.ts';
import { registerGenesys } from './routes/genesys.ts';
import { registerHelpdesk } from './routes/helpdesk.ts';

/** Every business-system webhook this edge serves; a new one is a file in routes/ and a line here. */
const routes: Array<(app: FastifyInstance, deps: AppDeps) => void> = [
  registerAgentDesk,
  registerHelpdesk,
  registerGenesys,
];

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = createEdgeApp({
    logger: deps.logger,
    registry: deps.metrics.registry,
    http: deps.metrics.http,
    checks: deps.checks,
    isStopping: deps.isStopping,
    bodyLimit: 1024 * 1024,
  });
  for (const register of routes) register(app, deps);
  return app;
}
