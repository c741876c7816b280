import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudEvent } from '@switchboard/contracts';
import { Counter, Gauge, type Logger, type Publisher, type Registry } from '@switchboard/platform';
import type pg from 'pg';
import { OUTBOX_CHANNEL } from './outbox.ts';

export const relayMetrics = (registry: Registry) => ({
  published: new Counter({
    name: 'outbox_published_total',
    help: 'Outbox events the broker confirmed',
    registers: [registry],
  }),
  failures: new Counter({
    name: 'outbox_publish_failures_total',
    help: 'Outbox publishes that failed and will be retried',
    registers: [registry],
  }),
  lag: new Gauge({
    name: 'outbox_lag_seconds',
    help: 'Age of the oldest unpublished outbox event, as of the last relay pass',
    registers: [registry],
  }),
  leader: new Gauge({
    name: 'outbox_relay_leader',
    help: '1 while this process is the relay that publishes the outbox',
    registers: [registry],
  }),
});
export type RelayMetrics = ReturnType<typeof relayMetrics>;

export interface RelayOptions {
  pool: pg.Pool;
  publisher: Publisher;
  logger: Logger;
  metrics: RelayMetrics;
  batchSize?: number;
  /** Fallback poll, for a NOTIFY lost to a dropped connection. */
  pollMs?: number;
  /** How long a wake-up waits for more commits before draining; bounds the latency it adds. */
  coalesceMs?: number;
  /** Distinguishes relays of different services that share one database. */
  lockKey?: number;
}

interface Row {
  id: string;
  exchange: string;
  routing_key: string;
  envelope: CloudEvent;
  created_at: Date;
}

/**
 * Publishes committed outbox rows and stamps them published. One relay per database is the
 * leader (a session advisory lock on its LISTEN connection); the others wait to take over if its
 * session dies. The leader publishes in id order on one channel with pipelined confirms and marks
 * only the confirmed prefix, so per-aggregate order holds and a crash between the publish and the
 * mark re-publishes (consumers dedupe by event id) instead of losing.
 */
export class OutboxRelay {
  #client: pg.PoolClient | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #pending = false;
  #loop: Promise<void> | undefined;

  constructor(private readonly opts: RelayOptions) {}

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { logger, metrics } = this.opts;
    while (!this.#stopped) {
      try {
        await this.#lead();
      } catch (err) {
        logger.warn({ err }, 'outbox relay interrupted');
      } finally {
        metrics.leader.set(0);
        this.#release();
      }
      if (!this.#stopped) await this.#idle(1_000);
    }
  }

  /** Holds leadership until stopped or the connection fails; drains on every wake-up. */
  async #lead(): Promise<void> {
    const client = await this.opts.pool.connect();
    this.#client = client;
    client.on('error', () => this.#wake?.());
    client.on('notification', () => {
      this.#pending = true;
      this.#wake?.();
    });
    const lockKey = this.opts.lockKey ?? 7263002;
    for (;;) {
      if (this.#stopped) return;
      const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [lockKey]);
      if (rows[0]?.ok) break;
      await this.#idle(this.opts.pollMs ?? 1_000);
    }
    this.opts.metrics.leader.set(1);
    // A mark lost with the last moments of a Postgres crash only re-publishes (consumers dedupe by
    // event id), so the marks need not wait for the WAL flush: one fsync less per relay pass.
    await client.query('set synchronous_commit = off');
    await client.query(`listen ${OUTBOX_CHANNEL}`);
    this.opts.logger.info('outbox relay leading');
    while (!this.#stopped) {
      this.#pending = false;
      const full = await this.drain();
      if (full) continue;
      if (!this.#pending) await this.#idle(this.opts.pollMs ?? 1_000);
      // Woken by a commit: let the commits of the next moment join it, so one pass (one read,
      // one update, one round of confirms) carries many transactions' events under load.
      if (this.#pending) await sleep(this.opts.coalesceMs ?? 2);
    }
  }

  /**
   * Publishes one batch. Returns true when the batch was full, meaning more may be waiting.
   * Throws when the database fails; a publish failure stops the batch at the failed row. No
   * publish waits forever: one the broker neither confirms nor nacks fails after the publisher's
   * confirm timeout, so a stalled broker node is a retry here, not a hung relay.
   */
  async drain(): Promise<boolean> {
    const client = this.#client;
    if (!client) return false;
    const { publisher, metrics, logger } = this.opts;
    const batchSize = this.opts.batchSize ?? 500;
    // Named statements, parsed and planned once on the relay's own session, not on every pass.
    const { rows } = await client.query<Row>({
      name: 'relay-unpublished',
      text: `select id, exchange, routing_key, envelope, created_at from outbox
              where published_at is null order by id limit $1`,
      values: [batchSize],
    });
    metrics.lag.set(rows[0] ? Math.max(0, (Date.now() - rows[0].created_at.getTime()) / 1000) : 0);
    if (rows.length === 0) return false;
    const results = await Promise.allSettled(
      rows.map((r) => publisher.publishEvent(r.exchange, r.routing_key, r.envelope, { mandatory: false })),
    );
    const firstFailure = results.findIndex((r) => r.status === 'rejected');
    const confirmed = firstFailure === -1 ? rows : rows.slice(0, firstFailure);
    if (confirmed.length > 0) {
      await client.query({
        name: 'relay-mark',
        text: 'update outbox set published_at = now() where id = any($1::bigint[])',
        values: [confirmed.map((r) => r.id)],
      });
      metrics.published.inc(confirmed.length);
    }
    if (firstFailure !== -1) {
      metrics.failures.inc(rows.length - confirmed.length);
      const failure = results[firstFailure] as PromiseRejectedResult;
      logger.warn({ err: failure.reason, outboxId: rows[firstFailure]?.id }, 'outbox publish failed, retrying');
      await this.#idle(500);
      return false;
    }
    return rows.length === batchSize;
  }

  #idle(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const ac = new AbortController();
    this.#wake = () => ac.abort();
    return sleep(ms, undefined, { signal: ac.signal })
      .catch(() => undefined)
      .finally(() => {
        this.#wake = undefined;
      });
  }

  #release(): void {
    const client = this.#client;
    this.#client = undefined;
    // Destroying the session (rather than returning it to the pool) drops LISTEN and the lock.
    client?.release(true);
  }
}

/** Deletes published events older than the replay window. */
export async function pruneOutbox(pool: pg.Pool, olderThan: Date): Promise<number> {
  const res = await pool.query('delete from outbox where published_at < $1', [olderThan]);
  return res.rowCount ?? 0;
}
