import { Broker, brokerReady, createLogger, Lifecycle, Publisher, switchboardTopology } from '@switchboard/platform';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createMetrics } from './metrics.ts';

const config = loadConfig();
const logger = createLogger('ingest', config.LOG_LEVEL);
const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
const metrics = createMetrics();
const topology = switchboardTopology(config.AMQP_NAMESPACE);

const broker = new Broker(config.AMQP_URL, topology, logger, metrics.publisher);
const publisher = new Publisher(broker, metrics.publisher, logger);
await publisher.start();
broker.start();
lifecycle.onStop('broker', () => broker.close());
lifecycle.onStop('publisher', () => publisher.close());

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
// Closing the server stops intake and waits for in-flight requests, whose publishes confirm first.
lifecycle.onStop('http', () => app.close());
lifecycle.handleSignals();
