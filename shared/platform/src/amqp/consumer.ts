import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../logger.ts';
import type { ConsumerMetrics, Counter } from '../metrics.ts';
import type { Broker } from './broker.ts';
import { lingerUntil, RecentArrivals } from './linger.ts';
import type { Outcome } from './outcome.ts';
import { type PauseOptions, untilBack } from './pause.ts';
import type { OutgoingMessage, Publisher } from './publisher.ts';
import { ATTEMPT_HEADER, republish } from './republish.ts';
import type { ConsumedQueue } from './topology.ts';

export interface DeliveryContext {
  attempt: number;
  logger: Logger;
}
export type Handler = (msg: ConsumeMessage, ctx: DeliveryContext) => Promise<Outcome>;

export interface Delivery {
  msg: ConsumeMessage;
  ctx: DeliveryContext;
}
/**
 * Handles several deliveries at once (e.g. in one transaction) and returns one outcome per
 * delivery, in order. Throwing means "transient" for every delivery of the batch.
 */
export type BatchHandler = (batch: Delivery[]) => Promise<Outcome[]>;

export interface ConsumerOptions {
  prefetch: number;
  logger: Logger;
  metrics: ConsumerMetrics;
  /**
   * Natural batching: deliveries that arrive while `concurrency` batches are running wait and
   * form the next batch (at most `maxSize`). Idle, every message is handled alone at once; under
   * load, batches grow and per-batch costs (a transaction, a commit) are shared. `lingerMs`
   * lets a batch short of `maxSize` wait up to that long after its oldest delivery arrived for
   * others to join it, while the last few deliveries came close enough together that company is
   * due in time (see linger.ts): at a moderate rate, a few milliseconds of latency for a shared
   * transaction; a lone delivery after a quiet spell goes at once. `lingerAlways` waits the full
   * linger regardless (fewer batches before latency, e.g. a bulk consumer).
   */
  batch?: { maxSize: number; concurrency: number; lingerMs?: number; lingerAlways?: boolean };
  /**
   * Counts parked deliveries, once each parked copy is confirmed: with the outcome's `labels` and
   * `reason` (the reason's leading word). Every label it declares beside `reason` must be in the
   * labels of every `park` outcome.
   */
  parked?: Counter<string>;
  /**
   * Outages pause, they do not poison: a delivery whose handler failed because a dependency is
   * unreachable (`isOutage` of the error) is not an attempt of the message. It goes back to the
   * front of the line, unsettled, the consumer is cancelled (nothing more arrives) until `probe`
   * answers, then consumption resumes where it stopped. The message keeps its attempt count.
   */
  pause?: PauseOptions;
}

/**
 * A delivery's attempt and its child logger (event id, type, attempt), the logger made when first
 * used: most deliveries log nothing, and a pino child serializes its bindings when it is made.
 */
export function deliveryContext(parent: Logger, msg: ConsumeMessage): DeliveryContext {
  const attempt = Number(msg.properties.headers?.[ATTEMPT_HEADER] ?? 1);
  let logger: Logger | undefined;
  return {
    attempt,
    get logger() {
      logger ??= parent.child({
        eventId: msg.properties.messageId,
        type: msg.properties.type,
        attempt,
        ...(msg.fields.redelivered ? { redelivered: true } : {}),
      });
      return logger;
    },
  };
}

/** A delivery in hand that no batch took yet, and when it arrived. */
type Waiting = { ch: Channel; msg: ConsumeMessage; at: number };

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
  readonly #waiting: Waiting[] = [];
  #lingering: NodeJS.Timeout | undefined;
  readonly #arrivals = new RecentArrivals();
  #running = 0;
  #paused = false;
  /** How often each message was held; a message held `MAX_HOLDS` times takes the retry ladder. */
  readonly #holds = new Map<string, number>();
  readonly #handleBatch: BatchHandler;

  constructor(
    private readonly broker: Broker,
    private readonly publisher: Publisher,
    private readonly queue: ConsumedQueue,
    handler: Handler | { batch: BatchHandler },
    private readonly opts: ConsumerOptions,
  ) {
    this.#handleBatch =
      typeof handler === 'function'
        ? (batch) => Promise.all(batch.map((d) => handler(d.msg, d.ctx).catch((err: unknown) => transient(d, err))))
        : handler.batch;
  }

  async start(): Promise<void> {
    await this.broker.onConnect(async (conn) => {
      if (this.#stopped) return;
      const ch = await conn.createChannel();
      ch.on('error', (err) => this.opts.logger.warn({ err }, 'consumer channel error'));
      // Deliveries of a closed channel that no batch has taken yet will be redelivered: drop them
      // rather than work on them twice.
      ch.on('close', () => {
        const kept = this.#waiting.filter((w) => w.ch !== ch);
        this.#waiting.splice(0, this.#waiting.length, ...kept);
      });
      await ch.prefetch(this.opts.prefetch);
      this.#channel = ch;
      // Paused: consumption starts again when the dependency is back.
      if (!this.#paused) await this.#consume(ch);
    });
  }

  async #consume(ch: Channel): Promise<void> {
    const { consumerTag } = await ch.consume(this.queue.name, (msg) => {
      if (!msg) return;
      const at = performance.now();
      this.#arrivals.record(at);
      this.#waiting.push({ ch, msg, at });
      this.#pump();
    });
    this.#tag = consumerTag;
  }

  /** Stops intake, waits for every delivery in hand to settle, then closes the channel. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const ch = this.#channel;
    if (ch && this.#tag) await ch.cancel(this.#tag).catch(() => undefined);
    // Paused, what waits stays unsettled: closing the channel hands it back to the queue.
    while (this.#inFlight.size > 0 || (!this.#paused && this.#waiting.length > 0)) {
      this.#pump();
      await Promise.allSettled([...this.#inFlight]);
    }
    this.#waiting.length = 0;
    clearTimeout(this.#lingering);
    if (ch) await ch.close().catch(() => undefined);
  }

  /** Starts batches while there is room; each takes what is waiting, up to the batch size. */
  #pump(): void {
    const { maxSize, concurrency } = this.opts.batch ?? { maxSize: 1, concurrency: this.opts.prefetch };
    while (!this.#paused && this.#waiting.length > 0 && this.#running < concurrency) {
      const wait = this.#lingerLeft(maxSize);
      if (wait > 0) {
        this.#lingerFor(wait);
        return;
      }
      clearTimeout(this.#lingering);
      this.#lingering = undefined;
      const batch = this.#waiting.splice(0, maxSize);
      this.#running++;
      const p = this.#handle(batch).finally(() => {
        this.#running--;
        this.#inFlight.delete(p);
        this.#pump();
      });
      this.#inFlight.add(p);
    }
  }

  /**
   * How much longer the next batch waits for company: none once full, stopping, old enough, or
   * when company is not due in time (linger.ts).
   */
  #lingerLeft(maxSize: number): number {
    const { lingerMs = 0, lingerAlways = false } = this.opts.batch ?? {};
    const oldest = this.#waiting[0];
    if (lingerMs <= 0 || this.#stopped || !oldest || this.#waiting.length >= maxSize) return 0;
    const until = lingerAlways ? oldest.at + lingerMs : lingerUntil(oldest.at, lingerMs, this.#arrivals.times);
    return until === undefined ? 0 : Math.max(0, until - performance.now());
  }

  /** Pumps again in `ms`; each arrival moves the moment, so the timer is set anew. */
  #lingerFor(ms: number): void {
    clearTimeout(this.#lingering);
    this.#lingering = setTimeout(() => {
      this.#lingering = undefined;
      this.#pump();
    }, ms);
  }

  async #handle(batch: Waiting[]): Promise<void> {
    const started = performance.now();
    const queue = this.queue.name;
    const deliveries: Delivery[] = batch.map(({ msg }) => ({ msg, ctx: deliveryContext(this.opts.logger, msg) }));
    this.opts.metrics.inFlight.inc({ queue }, batch.length);
    let outcomes: Outcome[];
    try {
      outcomes = await this.#handleBatch(deliveries);
    } catch (err) {
      outcomes = deliveries.map((d) => transient(d, err));
    }
    const holding = batch.map((d, i) => this.#isOutage(outcomes[i]) && this.#mayHold(d.msg));
    const held = batch.filter((_, i) => holding[i]);
    if (held.length > 0)
      this.#hold(
        held,
        outcomes.find((o) => this.#isOutage(o)),
      );
    await Promise.all(
      batch.map(async ({ ch, msg }, i) => {
        const { ctx } = deliveries[i] as Delivery;
        if (holding[i]) return;
        this.#holds.delete(String(msg.properties.messageId));
        const outcome = this.#final(outcomes[i], ctx.attempt);
        try {
          await this.#settle(ch, msg, outcome, ctx.attempt);
          if (this.opts.logger.isLevelEnabled('debug')) ctx.logger.debug({ outcome: outcome.kind }, 'settled');
        } catch (err) {
          // The channel is gone: the broker will redeliver, and the inbox will recognise it.
          ctx.logger.warn({ err, outcome: outcome.kind }, 'settle failed, message will be redelivered');
        } finally {
          this.opts.metrics.consumed.inc({ queue, outcome: outcome.kind });
          this.opts.metrics.handlerDuration.observe(
            { queue, outcome: outcome.kind },
            (performance.now() - started) / 1000,
          );
        }
      }),
    );
    this.opts.metrics.inFlight.dec({ queue }, batch.length);
  }

  /**
   * Whether a delivery may be held once more. A message whose own handling keeps looking like an
   * outage (a query that kills its connection) while the probe answers would be held forever and
   * block the queue: after `MAX_HOLDS` it takes the retry ladder like any failure.
   */
  #mayHold(msg: ConsumeMessage): boolean {
    const id = String(msg.properties.messageId);
    const holds = (this.#holds.get(id) ?? 0) + 1;
    if (holds > MAX_HOLDS) {
      this.#holds.delete(id);
      return false;
    }
    // Ids of deliveries that left another way (a closed channel) are dropped wholesale, not leaked.
    if (this.#holds.size >= 10_000) this.#holds.clear();
    this.#holds.set(id, holds);
    return true;
  }

  #isOutage(o: Outcome | undefined): boolean {
    return o?.kind === 'retry' && this.opts.pause !== undefined && this.opts.pause.isOutage(o.cause);
  }

  /** Puts deliveries back at the front, unsettled (no attempt spent), and pauses if not paused yet. */
  #hold(held: Waiting[], outcome: Outcome | undefined): void {
    this.#waiting.unshift(...held);
    if (this.#paused || !this.opts.pause) return;
    this.#paused = true;
    void this.#pauseUntilBack(this.opts.pause, outcome);
  }

  async #pauseUntilBack(pause: PauseOptions, outcome: Outcome | undefined): Promise<void> {
    const queue = this.queue.name;
    const reason = outcome && 'reason' in outcome ? outcome.reason : 'unknown';
    this.opts.logger.warn({ queue, reason }, 'dependency unreachable, consumer paused');
    this.opts.metrics.paused.set({ queue }, 1);
    this.opts.metrics.pauses.inc({ queue });
    const ch = this.#channel;
    if (ch && this.#tag) await ch.cancel(this.#tag).catch(() => undefined);
    this.#tag = undefined;
    await untilBack(pause, () => this.#stopped);
    this.opts.metrics.paused.set({ queue }, 0);
    // Stopping: stays paused, so stop() leaves what waits to the broker instead of trying it now.
    if (this.#stopped) return;
    this.#paused = false;
    this.opts.logger.info({ queue }, 'dependency back, consumer resumed');
    const current = this.#channel;
    if (current) await this.#consume(current).catch((err: unknown) => this.opts.logger.warn({ err }, 'resume failed'));
    this.#pump();
  }

  /** The outcome to settle: exhausted retries and parking without a parking queue become dead. */
  #final(outcome: Outcome | undefined, attempt: number): Outcome {
    const o = outcome ?? { kind: 'retry', reason: 'handler returned no outcome' };
    if (o.kind === 'retry' && attempt >= this.queue.maxAttempts) {
      return { kind: 'dead', reason: `attempts exhausted (${attempt}): ${o.reason}` };
    }
    // A queue without a parking queue cannot hold it for a person; the dead-letter queue can.
    if (o.kind === 'park' && !this.queue.parkedQueue) {
      return { kind: 'dead', reason: `unparkable: ${this.queue.name} has no parking queue; ${o.reason}` };
    }
    return o;
  }

  async #settle(ch: Channel, msg: ConsumeMessage, outcome: Outcome, attempt: number): Promise<void> {
    const queue = this.queue.name;
    const send = (m: OutgoingMessage) => this.publisher.publish(m);
    const moved = { eventId: msg.properties.messageId, reason: 'reason' in outcome ? outcome.reason : '' };
    switch (outcome.kind) {
      case 'done':
      case 'skipped':
        break;
      case 'retry': {
        const to = { exchange: '', routingKey: this.queue.retryQueue(attempt) };
        await republish(send, msg, to, { attempt: attempt + 1, reason: outcome.reason });
        this.opts.metrics.retried.inc({ queue });
        break;
      }
      case 'dead': {
        this.opts.logger.error(moved, 'dead-lettered');
        const to = { exchange: this.broker.topologyNames.dlx, routingKey: queue };
        await republish(send, msg, to, { attempt, reason: outcome.reason });
        this.opts.metrics.deadLettered.inc({ queue, reason: leadingWord(outcome.reason) });
        break;
      }
      case 'park': {
        // #final made a park on a queue without a parking queue a dead letter.
        const to = { exchange: '', routingKey: this.queue.parkedQueue ?? '' };
        this.opts.logger.info(moved, 'parked');
        await republish(send, msg, to, { attempt, reason: outcome.reason });
        this.opts.parked?.inc({ ...outcome.labels, reason: leadingWord(outcome.reason) });
        break;
      }
      default: {
        const never: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(never)}`);
      }
    }
    // The copy is confirmed before the original is acked: a crash in between duplicates, never loses.
    ch.ack(msg);
  }
}

/** The outcome of a delivery whose handling threw: logged, and retried through the delay queues. */
export function transient(d: Delivery, err: unknown): Outcome {
  d.ctx.logger.warn({ err }, 'handler failed');
  return { kind: 'retry', reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err), cause: err };
}

/** Holds of one message before its failure counts as an attempt after all (see `#mayHold`). */
const MAX_HOLDS = 10;

/** A bounded label for a reason: its leading word, e.g. `invalid_payload`. */
const leadingWord = (reason: string) =>
  reason.startsWith('attempts exhausted') ? 'attempts_exhausted' : (reason.match(/^[a-z_]+/)?.[0] ?? 'other');
