import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../logger.ts';
import type { ConsumerMetrics } from '../metrics.ts';
import type { Broker } from './broker.ts';
import type { Publisher } from './publisher.ts';
import type { ConsumedQueue } from './topology.ts';

/**
 * What a handler did with a delivery. `done` and `skipped` (a redelivery the inbox recognised)
 * ack it; `retry` sends it to a delay queue; `dead` parks it with its reason. A thrown error
 * means "transient": the same as `retry`.
 */
export type Outcome =
  | { kind: 'done' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'retry'; reason: string }
  | { kind: 'dead'; reason: string };

export const done: Outcome = { kind: 'done' };
export const skipped = (reason: string): Outcome => ({ kind: 'skipped', reason });
export const dead = (reason: string): Outcome => ({ kind: 'dead', reason });

export interface DeliveryContext {
  attempt: number;
  logger: Logger;
}
export type Handler = (msg: ConsumeMessage, ctx: DeliveryContext) => Promise<Outcome>;

export const ATTEMPT_HEADER = 'x-switchboard-attempt';
export const REASON_HEADER = 'x-switchboard-reason';

export interface ConsumerOptions {
  prefetch: number;
  logger: Logger;
  metrics: ConsumerMetrics;
}

/**
 * A queue consumer: bounded prefetch, manual ack only after the handler settled (for the
 * sync-worker: after its transaction committed), retries through TTL delay queues that
 * dead-letter back to the main queue, parking after `maxAttempts`. A crash before the ack leaves
 * the message unacked, so the broker redelivers it and the handler's inbox makes that a no-op.
 */
export class Consumer {
  #channel: Channel | undefined;
  #tag: string | undefined;
  #stopped = false;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(
    private readonly broker: Broker,
    private readonly publisher: Publisher,
    private readonly queue: ConsumedQueue,
    private readonly handler: Handler,
    private readonly opts: ConsumerOptions,
  ) {}

  async start(): Promise<void> {
    await this.broker.onConnect(async (conn) => {
      if (this.#stopped) return;
      const ch = await conn.createChannel();
      ch.on('error', (err) => this.opts.logger.warn({ err }, 'consumer channel error'));
      await ch.prefetch(this.opts.prefetch);
      const { consumerTag } = await ch.consume(this.queue.name, (msg) => {
        if (msg) this.#track(this.#handle(ch, msg));
      });
      this.#channel = ch;
      this.#tag = consumerTag;
    });
  }

  /** Stops intake, waits for every delivery in hand to settle, then closes the channel. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const ch = this.#channel;
    if (ch && this.#tag) await ch.cancel(this.#tag).catch(() => undefined);
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    if (ch) await ch.close().catch(() => undefined);
  }

  #track(p: Promise<void>): void {
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  async #handle(ch: Channel, msg: ConsumeMessage): Promise<void> {
    const started = performance.now();
    const queue = this.queue.name;
    const attempt = Number(msg.properties.headers?.[ATTEMPT_HEADER] ?? 1);
    const logger = this.opts.logger.child({
      eventId: msg.properties.messageId,
      type: msg.properties.type,
      attempt,
      ...(msg.fields.redelivered ? { redelivered: true } : {}),
    });
    this.opts.metrics.inFlight.inc({ queue });
    let outcome: Outcome;
    try {
      outcome = await this.handler(msg, { attempt, logger });
    } catch (err) {
      logger.warn({ err }, 'handler failed');
      outcome = { kind: 'retry', reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
    if (outcome.kind === 'retry' && attempt >= this.queue.maxAttempts) {
      outcome = { kind: 'dead', reason: `attempts exhausted (${attempt}): ${outcome.reason}` };
    }
    try {
      await this.#settle(ch, msg, outcome, attempt);
      logger.debug({ outcome: outcome.kind }, 'settled');
    } catch (err) {
      // The channel is gone: the broker will redeliver, and the inbox will recognise it.
      logger.warn({ err, outcome: outcome.kind }, 'settle failed, message will be redelivered');
    } finally {
      this.opts.metrics.inFlight.dec({ queue });
      this.opts.metrics.consumed.inc({ queue, outcome: outcome.kind });
      this.opts.metrics.handlerDuration.observe({ queue, outcome: outcome.kind }, (performance.now() - started) / 1000);
    }
  }

  async #settle(ch: Channel, msg: ConsumeMessage, outcome: Outcome, attempt: number): Promise<void> {
    const queue = this.queue.name;
    switch (outcome.kind) {
      case 'done':
      case 'skipped':
        break;
      case 'retry':
        await this.#republish(msg, '', this.queue.retryQueue(attempt), attempt + 1, outcome.reason);
        this.opts.metrics.retried.inc({ queue });
        break;
      case 'dead':
        this.opts.logger.error({ eventId: msg.properties.messageId, reason: outcome.reason }, 'dead-lettered');
        await this.#republish(msg, this.broker.topologyNames.dlx, queue, attempt, outcome.reason);
        this.opts.metrics.deadLettered.inc({ queue, reason: deadReason(outcome.reason) });
        break;
      default: {
        const never: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(never)}`);
      }
    }
    // The copy is confirmed before the original is acked: a crash in between duplicates, never loses.
    ch.ack(msg);
  }

  #republish(msg: ConsumeMessage, exchange: string, routingKey: string, attempt: number, reason: string) {
    const { properties } = msg;
    return this.publisher.publish({
      exchange,
      routingKey,
      content: msg.content,
      mandatory: true,
      properties: {
        messageId: String(properties.messageId),
        type: properties.type,
        contentType: properties.contentType,
        timestamp: properties.timestamp,
        persistent: true,
        headers: { ...properties.headers, [ATTEMPT_HEADER]: attempt, [REASON_HEADER]: reason.slice(0, 1000) },
      },
    });
  }
}

/** A bounded label for the dead-letter metric: the reason's leading word, e.g. `invalid_payload`. */
const deadReason = (reason: string) =>
  reason.startsWith('attempts exhausted') ? 'attempts_exhausted' : (reason.match(/^[a-z_]+/)?.[0] ?? 'other');
