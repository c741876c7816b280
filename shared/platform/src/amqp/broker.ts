import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import type { Logger } from '../logger.ts';
import type { PublisherMetrics } from '../metrics.ts';
import { coalesceFrameWrites } from './coalesce.ts';
import type { Topology } from './topology.ts';

export type AmqpConnection = amqp.ChannelModel;
type Setup = (conn: AmqpConnection) => Promise<void>;

/**
 * One broker connection per process that survives broker restarts. On every (re)connect it
 * declares the topology and re-runs each registered setup (publisher channels, consumers), so the
 * parts built on it resume without a process restart. Between connections, `connection` is
 * undefined and publishers fail fast.
 *
 * `url` may list several nodes of one cluster, comma-separated: they are tried in turn, and a
 * connection lost moves on to the next node first (the lost one is likely going away), so a
 * cluster that loses a node keeps every service connected through the others.
 */
export class Broker {
  #conn: AmqpConnection | undefined;
  #closing = false;
  #connections = 0;
  readonly #setups: Setup[] = [];
  readonly #waiters: Array<() => void> = [];
  #loop: Promise<void> | undefined;
  readonly #urls: string[];
  /** Index (modulo the list) of the node the next connection attempt goes to. */
  #next = 0;

  constructor(
    url: string,
    private readonly topology: Topology,
    private readonly logger: Logger,
    private readonly metrics: PublisherMetrics,
  ) {
    this.#urls = amqpUrls(url);
  }

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
      const url = this.#urls[this.#next % this.#urls.length] as string;
      try {
        await this.#connect(url);
        delay = 250;
      } catch (err) {
        this.#next++;
        // Each node tried once this round: back off before the next round, not between nodes.
        const roundDone = this.#next % this.#urls.length === 0;
        this.logger.warn({ err, node: nodeOf(url), retryInMs: roundDone ? delay : 0 }, 'broker connect failed');
        if (!roundDone) continue;
        await sleep(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
    this.#loop = undefined;
  }

  async #connect(url: string): Promise<void> {
    const conn = await amqp.connect(url, {
      clientProperties: { connection_name: this.logger.bindings().service },
      // Nagle off: at a light rate a frame written while the previous segment waits for the
      // broker's delayed ACK (about 40 ms) waited with it, a 53 ms floor under webhook →
      // message.received at 20/s (11 ms without). Flat out the turn's frames already leave in one
      // write (coalesceFrameWrites), so it adds no packets there (docs/performance.md).
      noDelay: true,
    });
    if (!coalesceFrameWrites(conn)) this.logger.warn('amqplib internals changed: frames are written one by one');
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
      this.#next++;
      this.logger.warn({ node: nodeOf(url) }, 'broker connection lost, reconnecting');
      this.start();
    });
    this.#conn = conn;
    this.metrics.connected.set(1);
    if (this.#connections++ > 0) this.metrics.reconnects.inc();
    this.logger.info({ node: nodeOf(url) }, 'broker connected');
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

/** The node URLs of `AMQP_URL`: one, or several of one cluster separated by commas. */
export function amqpUrls(url: string): string[] {
  const urls = url
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  if (urls.length === 0) throw new Error('AMQP_URL names no broker');
  return urls;
}

/** `host:port` of a node URL, for logs: never the credentials. */
const nodeOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return 'unparsable';
  }
};

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
