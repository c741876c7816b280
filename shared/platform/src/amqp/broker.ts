import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import type { Logger } from '../logger.ts';
import type { PublisherMetrics } from '../metrics.ts';
import type { Topology } from './topology.ts';

export type AmqpConnection = amqp.ChannelModel;
type Setup = (conn: AmqpConnection) => Promise<void>;

/**
 * One broker connection per process that survives broker restarts. On every (re)connect it
 * declares the topology and re-runs each registered setup (publisher channels, consumers), so the
 * parts built on it resume without a process restart. Between connections, `connection` is
 * undefined and publishers fail fast.
 */
export class Broker {
  #conn: AmqpConnection | undefined;
  #closing = false;
  #connections = 0;
  readonly #setups: Setup[] = [];
  readonly #waiters: Array<() => void> = [];
  #loop: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly topology: Topology,
    private readonly logger: Logger,
    private readonly metrics: PublisherMetrics,
  ) {}

  get topologyNames(): Topology['names'] {
    return this.topology.names;
  }

  get connection(): AmqpConnection | undefined {
    return this.#conn;
  }

  /** Starts connecting in the background; resolve `ready()` to wait for the first connection. */
  start(): void {
    this.#loop ??= this.#connectLoop();
  }

  ready(): Promise<void> {
    if (this.#conn) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Registers a setup to run on this and every later connection. */
  async onConnect(setup: Setup): Promise<void> {
    this.#setups.push(setup);
    if (this.#conn) await setup(this.#conn);
  }

  async close(): Promise<void> {
    this.#closing = true;
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn) await conn.close().catch(() => undefined);
  }

  async #connectLoop(): Promise<void> {
    let delay = 250;
    while (!this.#closing && !this.#conn) {
      try {
        await this.#connect();
        delay = 250;
      } catch (err) {
        this.logger.warn({ err, retryInMs: delay }, 'broker connect failed');
        await sleep(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
    this.#loop = undefined;
  }

  async #connect(): Promise<void> {
    const conn = await amqp.connect(this.url, {
      clientProperties: { connection_name: this.logger.bindings().service },
    });
    try {
      await declareTopology(conn, this.topology);
      for (const setup of this.#setups) await setup(conn);
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw err;
    }
    // close() ran while this connection was being set up: it must not outlive the broker.
    if (this.#closing) {
      await conn.close().catch(() => undefined);
      return;
    }
    conn.on('error', (err) => this.logger.warn({ err }, 'broker connection error'));
    conn.on('close', () => {
      if (this.#conn !== conn) return;
      this.#conn = undefined;
      this.metrics.connected.set(0);
      if (this.#closing) return;
      this.logger.warn('broker connection lost, reconnecting');
      this.start();
    });
    this.#conn = conn;
    this.metrics.connected.set(1);
    if (this.#connections++ > 0) this.metrics.reconnects.inc();
    this.logger.info('broker connected');
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

export async function declareTopology(conn: AmqpConnection, topology: Topology): Promise<void> {
  const ch = await conn.createChannel();
  try {
    for (const ex of topology.exchanges) await ch.assertExchange(ex.name, ex.type, { durable: true });
    for (const q of topology.queues) {
      await ch.assertQueue(q.name, { durable: true, arguments: q.arguments });
      for (const b of q.bindings) await ch.bindQueue(q.name, b.exchange, b.pattern);
    }
  } finally {
    await ch.close().catch(() => undefined);
  }
}

export const brokerReady = (broker: Broker) => async () => {
  if (!broker.connection) throw new Error('not connected');
};
