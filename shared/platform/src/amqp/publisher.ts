import { once } from 'node:events';
import { amqpProperties, type CloudEvent, encodeEvent } from '@switchboard/contracts';
import type { ConfirmChannel, Options } from 'amqplib';
import type { Logger } from '../logger.ts';
import type { PublisherMetrics } from '../metrics.ts';
import type { Broker } from './broker.ts';

/** The broker is not connected: the caller should answer 503 (an edge) or retry later (a relay). */
export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
}

/** The broker did not take the message: nacked, unroutable (returned), or the channel closed. */
export class PublishFailedError extends Error {
  override name = 'PublishFailedError';
  constructor(
    readonly reason: 'nacked' | 'unroutable' | 'channel_closed',
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

/**
 * Publishes on a confirm channel. Confirms are pipelined: any number of publishes may await
 * their confirms at once, and each promise settles only when the broker has taken responsibility
 * for that message (or refused it). A `basic.return` always precedes the confirm of the same
 * message, so a returned message id seen before its confirm marks that publish unroutable.
 */
export class Publisher {
  #channel: ConfirmChannel | undefined;
  #drained: Promise<unknown> | undefined;
  readonly #returned = new Map<string, number>();

  constructor(
    private readonly broker: Broker,
    private readonly metrics: PublisherMetrics,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.broker.onConnect(async (conn) => {
      const ch = await conn.createConfirmChannel();
      ch.on('return', (msg) => {
        const id = String(msg.properties.messageId);
        this.#returned.set(id, (this.#returned.get(id) ?? 0) + 1);
      });
      ch.on('error', (err) => this.logger.warn({ err }, 'publisher channel error'));
      ch.on('close', () => {
        if (this.#channel === ch) this.#channel = undefined;
      });
      this.#channel = ch;
    });
  }

  get available(): boolean {
    return this.#channel !== undefined;
  }

  async publish(msg: OutgoingMessage): Promise<void> {
    if (this.#drained) await this.#drained;
    const ch = this.#channel;
    if (!ch) {
      this.metrics.failed.inc({ exchange: msg.exchange, reason: 'unavailable' });
      throw new BrokerUnavailableError('broker unavailable');
    }
    const id = msg.properties.messageId;
    await new Promise<void>((resolve, reject) => {
      const fail = (reason: PublishFailedError['reason'], text: string) => {
        this.metrics.failed.inc({ exchange: msg.exchange, reason });
        reject(new PublishFailedError(reason, text));
      };
      const accepted = ch.publish(
        msg.exchange,
        msg.routingKey,
        msg.content,
        { ...msg.properties, mandatory: msg.mandatory },
        (err) => {
          const returns = this.#returned.get(id) ?? 0;
          if (returns > 0) {
            if (returns === 1) this.#returned.delete(id);
            else this.#returned.set(id, returns - 1);
            return fail('unroutable', `no queue bound for ${msg.exchange} ${msg.routingKey}`);
          }
          if (err) return fail(err.message === 'message nacked' ? 'nacked' : 'channel_closed', err.message);
          this.metrics.published.inc({ exchange: msg.exchange });
          resolve();
        },
      );
      if (!accepted && !this.#drained) this.#drained = this.#drain(ch);
    });
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
      this.#drained = undefined;
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
    const ch = this.#channel;
    this.#channel = undefined;
    // Waits for outstanding confirms before closing, so nothing in flight is abandoned.
    if (ch) await ch.waitForConfirms().catch(() => undefined);
    if (ch) await ch.close().catch(() => undefined);
  }
}
