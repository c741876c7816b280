import amqp from 'amqplib';

/**
 * The arrivals of one batch of messages, by provider message id. `arrivals` keeps the first
 * arrival time (performance.now()); a second arrival of the same id counts as a duplicate.
 */
export class Tracker {
  readonly arrivals = new Map<string, number>();
  duplicates = 0;
  lastArrival = 0;
  #onComplete: (() => void) | undefined;

  constructor(readonly expected: number) {}

  record(id: string, at: number): void {
    if (this.arrivals.has(id)) {
      this.duplicates++;
      return;
    }
    this.arrivals.set(id, at);
    this.lastArrival = at;
    if (this.arrivals.size === this.expected) this.#onComplete?.();
  }

  /** Resolves true once every expected id arrived, false when nothing arrived for `stallMs`. */
  waitAll(stallMs: number): Promise<boolean> {
    if (this.arrivals.size >= this.expected) return Promise.resolve(true);
    return new Promise((resolve) => {
      let seen = this.arrivals.size;
      const timer = setInterval(() => {
        if (this.arrivals.size > seen) seen = this.arrivals.size;
        else finish(false);
      }, stallMs);
      const finish = (ok: boolean) => {
        clearInterval(timer);
        this.#onComplete = undefined;
        resolve(ok);
      };
      this.#onComplete = () => finish(true);
    });
  }
}

/**
 * A downstream consumer of `message.received` on `switchboard.events`, like the ones the design
 * promises: an exclusive queue bound to the exchange. Each event is matched to the webhook that
 * caused it through `data.providerMessageId` (the wamid). Decoding is a bare JSON.parse, so the
 * collector's own cost stays small next to what it measures.
 */
export class EventCollector {
  readonly #trackers = new Map<string, Tracker>();
  /** Events for ids no tracker expects (e.g. a duplicate of an earlier batch), and undecodable ones. */
  stray = 0;
  /** Set when the broker connection dropped: its exclusive queue, and the events in it, are gone. */
  lost = false;

  private constructor(
    private readonly conn: amqp.ChannelModel,
    private readonly idOf: (data: Record<string, unknown>) => unknown,
  ) {
    conn.on('error', () => undefined);
    conn.on('close', () => {
      this.lost = true;
    });
  }

  /** `idOf` picks the id an event is matched by from its `data` (default: `providerMessageId`). */
  static async start(
    url: string,
    exchange: string,
    routingKey: string,
    idOf: (data: Record<string, unknown>) => unknown = (d) => d.providerMessageId,
  ): Promise<EventCollector> {
    const conn = await amqp.connect(url, { clientProperties: { connection_name: 'bench-collector' } });
    const collector = new EventCollector(conn, idOf);
    const ch = await conn.createChannel();
    await ch.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, exchange, routingKey);
    await ch.consume(queue, (msg) => msg && collector.#receive(msg.content), { noAck: true });
    return collector;
  }

  track(ids: Iterable<string>, expected: number): Tracker {
    const tracker = new Tracker(expected);
    for (const id of ids) this.#trackers.set(id, tracker);
    return tracker;
  }

  #receive(content: Buffer): void {
    const at = performance.now();
    let id: unknown;
    try {
      const data = (JSON.parse(content.toString('utf8')) as { data?: Record<string, unknown> }).data;
      id = data ? this.idOf(data) : undefined;
    } catch {
      id = undefined;
    }
    const tracker = typeof id === 'string' ? this.#trackers.get(id) : undefined;
    if (tracker && typeof id === 'string') tracker.record(id, at);
    else this.stray++;
  }

  async close(): Promise<void> {
    if (this.lost) return;
    this.lost = true;
    await this.conn.close().catch(() => undefined);
  }
}
