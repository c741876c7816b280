import { createLogger, type Logger, startEdgeRuntime } from '@switchboard/platform';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { createMetrics } from './metrics.ts';

/** Starts the ingest edge; `lifecycle.stop()` closes HTTP first (in-flight publishes confirm), then the broker. */
export async function startIngest(config: Config, opts: { logger?: Logger } = {}) {
  const logger = opts.logger ?? createLogger('ingest', config.LOG_LEVEL);
  const metrics = createMetrics();
  const { lifecycle, broker, topology, publish, checks } = await startEdgeRuntime({
    amqpUrl: config.AMQP_URL,
    namespace: config.AMQP_NAMESPACE,
    logger,
    metrics: metrics.publisher,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  const app = buildApp({ config, logger, metrics, checks, publish, isStopping: () => lifecycle.stopping });
  await app.listen({ port: config.http.port, host: config.http.host });
  lifecycle.onStop('http', () => app.close());
  return { lifecycle, app, broker, metrics, topology };
}
export type Ingest = Awaited<ReturnType<typeof startIngest>>;
