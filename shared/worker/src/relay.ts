/**
 * The outbox relay belongs to the worker kit's story (a unit of work appends, the relay publishes);
 * its code stays in `@switchboard/db` beside the outbox table it reads, with its crash story and
 * tests, and is re-exported here so a worker takes its whole shape from one package.
 */
export { OutboxRelay, type RelayMetrics, relayMetrics } from '@switchboard/db';
