import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { amqpProperties, type CloudEvent, encodeEvent } from '@switchboard/contracts';
import type { ConfirmChannel, Options } from 'amqplib';
import type { Logger } from '../logger.ts';
import type { PublisherMetrics } from '../metrics.ts';
import type { AmqpConnection, Broker } from './broker.ts';

/** The broker is not connected: the caller should answer 503 (an edge) or retry later (a relay). */
export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
}

/** The broker did not take the message: nacked, unroutable (returned), no confirm in time, or the channel closed. */
export class PublishFailedError extends Error {
  override name = 'PublishFailedError';
  constructor(
    readonly reason: 'nacked' | 'unroutable' | 'channel_closed' | 'confirm_timeout',
    message: string,
  ) {
    super(message);
  }
}

export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  content: Buffer;
  properties: Options.Publish & { messageId: string };
  /** Unroutable messages come back and fail the publish instead of vanishing. */
  mandatory: boolean;
}

export interface PublisherOptions {
  /** How long a publish waits for its confirm before it fails (and the channel is replaced). */
  confirmTimeoutMs?: number;
  /** Replacements of a failing channel are at least this far apart. */
  replaceIntervalMs?: number;
}

/**
 * Publishes on a confirm channel. Confirms are pipelined: any number of publishes may await
 * their confirms at once, and each promise settles only when the broker has taken responsibility
 * for that message (or refused it). A `basic.return` always precedes the confirm of the same
 * message, so a returned message id seen before its confirm marks that publish unroutable.
 *
 * A publish whose confirm does not come within `confirmTimeoutMs` fails: the caller retries (an
 * edge answers 503, the relay republishes the batch, a consumer leaves its delivery unacked), so
 * a stalled broker turns into retries, never into an ack of unconfirmed work; if the late confirm
 * does come, the retry is a duplicate with the same id, which consumers drop. A nack or a
 * timeout also replaces the channel: RabbitMQ 3.10 binds a channel to the quorum-queue leader it
 * found on the channel's first publish to that queue, and a channel opened while that leader's
 * node was down nacks every later publish to the queue for as long as the channel lives.
 */
export class Publisher {
  #channel: ConfirmChannel | undefined;
  readonly #draining = new Map<ConfirmChannel, Promise<void>>();
  readonly #returned = new Map<string, number>();
  readonly #retiring = new Set<ConfirmChannel>();
  #replacing: Promise<void> | undefined;
  #replacedAt = 0;
  #closing = false;
  readonly #confirmTimeoutMs: number;
  readonly #replaceIntervalMs: number;

  constructor(
    private readonly broker: Broker,
    private readonly metrics: PublisherMetrics,
    private readonly logger: Logger,
    opts: PublisherOptions = {},
  ) {
    this.#confirmTimeoutMs = opts.confirmTimeoutMs ?? 10_000;
    this.#replaceIntervalMs = opts.replaceIntervalMs ?? 1_000;
  }

  async start(): Promise<void> {
    await this.broker.onConnect(async (conn) => {
      this.#channel = await this.#open(conn);
    });
  }

  get available(): boolean {
    return this.#channel !== undefined;
  }

  async publish(msg: OutgoingMessage): Promise<void> {
    const draining = this.#channel && this.#draining.get(this.#channel);
    if (draining) await draining;
    const ch = this.#channel;
    if (!ch) {
      this.metrics.failed.inc({ exchange: msg.exchange, reason: 'unavailable' });
      throw new BrokerUnavailableError('broker unavailable');
    }
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (reason: PublishFailedError['reason'], text: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        this.metrics.failed.inc({ exchange: msg.exchange, reason });
        reject(new PublishFailedError(reason, text));
      };
      const deadline = setTimeout(() => {
        fail('confirm_timeout', `no confirm within ${this.#confirmTimeoutMs} ms`);
        this.#replace(ch, 'confirm_timeout');
      }, this.#confirmTimeoutMs);
      const accepted = ch.publish(
        msg.exchange,
        msg.routingKey,
        msg.content,
        { ...msg.properties, mandatory: msg.mandatory },
        (err) => {
          if (this.#takeReturn(msg.properties.messageId)) {
            return fail('unroutable', `no queue bound for ${msg.exchange} ${msg.routingKey}`);
          }
          if (err?.message === 'message nacked') this.#replace(ch, 'nacked');
          if (err) return fail(err.message === 'message nacked' ? 'nacked' : 'channel_closed', err.message);
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          this.metrics.published.inc({ exchange: msg.exchange });
          resolve();
        },
      );
      if (!accepted && !this.#draining.has(ch)) this.#draining.set(ch, this.#drain(ch));
    });
  }

  /** Whether the broker returned this message (unroutable); each return is counted once. */
  #takeReturn(id: string): boolean {
    const returns = this.#returned.get(id) ?? 0;
    if (returns === 0) return false;
    if (returns === 1) this.#returned.delete(id);
    else this.#returned.set(id, returns - 1);
    return true;
  }

  async #open(conn: AmqpConnection): Promise<ConfirmChannel> {
    const ch = await conn.createConfirmChannel();
    ch.on('return', (msg) => {
      const id = String(msg.properties.messageId);
      this.#returned.set(id, (this.#returned.get(id) ?? 0) + 1);
    });
    ch.on('error', (err) => this.logger.warn({ err }, 'publisher channel error'));
    ch.on('close', () => {
      this.#retiring.delete(ch);
      if (this.#channel !== ch) return;
      this.#channel = undefined;
      // Closed by the broker (a channel error) on a connection that lives on: open another. When
      // the connection itself went, the broker's reconnect opens the next channel.
      setImmediate(() => this.#replace(ch, 'closed'));
    });
    return ch;
  }

  /**
   * Swaps `failed` for a fresh channel on the same connection, at most once per
   * `replaceIntervalMs`. The old channel keeps its in-flight publishes until each is confirmed or
   * past its deadline, then closes.
   */
  #replace(failed: ConfirmChannel, reason: 'nacked' | 'confirm_timeout' | 'closed'): void {
    // Still the channel in use (a closed one has already been unset), on a live connection.
    const current = () => this.#channel === (reason === 'closed' ? undefined : failed);
    const conn = this.broker.connection;
    if (!current() || this.#replacing || !conn || this.#closing) return;
    this.#replacing = (async () => {
      await sleep(Math.max(0, this.#replacedAt + this.#replaceIntervalMs - Date.now()));
      if (this.broker.connection !== conn || !current() || this.#closing) return;
      const fresh = await this.#open(conn);
      if (this.broker.connection !== conn || !current() || this.#closing) {
        await fresh.close().catch(() => undefined);
        return;
      }
      this.#channel = fresh;
      this.#replacedAt = Date.now();
      this.metrics.channelsReplaced.inc({ reason });
      this.logger.warn({ reason }, 'publisher channel replaced');
      if (reason !== 'closed') void this.#retire(failed);
    })()
      .catch((err) => this.logger.warn({ err }, 'cannot replace the publisher channel'))
      .finally(() => {
        this.#replacing = undefined;
      });
  }

  async #retire(ch: ConfirmChannel): Promise<void> {
    this.#retiring.add(ch);
    const deadline = sleep(this.#confirmTimeoutMs, undefined, { ref: false });
    await Promise.race([ch.waitForConfirms().catch(() => undefined), deadline]);
    this.#retiring.delete(ch);
    await ch.close().catch(() => undefined);
  }

  /**
   * Resolves when the channel drains or closes. Each `once` adds listeners (and `once` an `error`
   * one too) that stay until their event fires: the loser of the race is aborted, or every
   * back-pressure episode would leave a `close` and an `error` listener behind on the channel.
   */
  async #drain(ch: ConfirmChannel): Promise<void> {
    const done = new AbortController();
    const { signal } = done;
    try {
      await Promise.race([once(ch, 'drain', { signal }), once(ch, 'close', { signal })]);
    } catch {
      // The channel errored: the publishes waiting on it fail on their own confirms.
    } finally {
      done.abort();
      this.#draining.delete(ch);
    }
  }

  publishEvent(exchange: string, routingKey: string, event: CloudEvent, opts: { mandatory: boolean }): Promise<void> {
    return this.publish({
      exchange,
      routingKey,
      content: encodeEvent(event),
      properties: amqpProperties(event),
      mandatory: opts.mandatory,
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    const ch = this.#channel;
    this.#channel = undefined;
    await this.#replacing;
    // Waits for outstanding confirms (each bounded by its deadline) before closing, so nothing
    // in flight is abandoned.
    for (const c of [...(ch ? [ch] : []), ...this.#retiring]) {
      const deadline = sleep(this.#confirmTimeoutMs, undefined, { ref: false });
      await Promise.race([c.waitForConfirms().catch(() => undefined), deadline]);
      await c.close().catch(() => undefined);
    }
    this.#retiring.clear();
  }
}
