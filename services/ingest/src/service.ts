import {
  Broker,
  brokerReady,
  createLogger,
  Lifecycle,
  type Logger,
  Publisher,
  switchboardTopology,
} from '@switchboard/platform';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { createMetrics } from './metrics.ts';

/** Starts the ingest edge; `lifecycle.stop()` closes HTTP first (in-flight publishes confirm), then the broker. */
export async function startIngest(config: Config, opts: { logger?: Logger } = {}) {
  const logger = opts.logger ?? createLogger('ingest', config.LOG_LEVEL);
  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
  const metrics = createMetrics();
  const topology = switchboardTopology(config.AMQP_NAMESPACE);

  const broker = new Broker(config.AMQP_URL, topology, logger, metrics.publisher);
  lifecycle.onStop('broker', () => broker.close());
  const publisher = new Publisher(broker, metrics.publisher, logger);
  await publisher.start();
  lifecycle.onStop('publisher', () => publisher.close());
  broker.start();

  const app = buildApp({
    config,
    logger,
    metrics,
    checks: { broker: brokerReady(broker) },
    isStopping: () => lifecycle.stopping,
    publish: async (batch) => {
      await Promise.all(
        batch.map((b) => publisher.publishEvent(topology.names.inbound, b.routingKey, b.event, { mandatory: true })),
      );
    },
  });
  await app.listen({ port: config.http.port, host: config.http.host });
  lifecycle.onStop('http', () => app.close());
  return { lifecycle, app, broker, metrics, topology };
}
export type Ingest = Awaited<ReturnType<typeof startIngest>>;
