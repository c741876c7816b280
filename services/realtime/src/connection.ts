import type { Logger } from '@switchboard/platform';
import { type RawData, WebSocket } from 'ws';
import type { Tenant } from './auth.ts';
import type { EventLog } from './event-log.ts';
import { type Hub, offer, type Subscriber } from './hub.ts';
import type { LiveFeed } from './live-feed.ts';
import type { Metrics } from './metrics.ts';
import { CLOSE, ClientMessage, type DropReason, eventFrame, frame } from './protocol.ts';
import { routeEvent } from './topics.ts';

export interface ConnectionDeps {
  hub: Hub;
  feed: LiveFeed;
  log: EventLog;
  metrics: Metrics;
  logger: Logger;
  limits: { maxBufferedBytes: number; maxMessagesPerSecond: number };
}

/**
 * One client's session: its subscriptions, its replay, and the rules that keep a bad client from
 * hurting the others. Frames go out only while its unsent bytes stay under the limit: past it the
 * client is dropped (4008) and must resume with its last event id, so a slow reader costs the
 * replica at most that much memory and never delays anyone else's frames.
 */
export class Connection implements Subscriber {
  readonly topics = new Set<string>();
  cursor: string | undefined;
  pending: Subscriber['pending'];
  alive = true;
  #closed = false;
  #window = { startedAt: 0, count: 0 };
  /** A client's requests run one at a time, so two replays never interleave their frames. */
  #queue: Promise<void> = Promise.resolve();

  constructor(
    readonly ws: WebSocket,
    readonly tenant: Tenant,
    private readonly deps: ConnectionDeps,
  ) {
    ws.on('message', (data, isBinary) => {
      this.#queue = this.#queue.then(() => this.#onMessage(data, isBinary));
    });
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', () => this.#onClose());
    // A protocol error (an oversized or malformed frame) closes this client only; without a
    // listener the emitter would throw and take the whole replica down.
    ws.on('error', (err) => this.deps.logger.debug({ err }, 'client socket error'));
    this.deps.metrics.connections.inc();
    this.#write(frame({ type: 'welcome', tenantId: tenant.tenantId }));
  }

  /** Closed or dropped: it gets nothing more, though its socket may still be closing. */
  get closed(): boolean {
    return this.#closed;
  }

  get tenantId(): string {
    return this.tenant.tenantId;
  }

  send(data: string, receivedAt?: number): boolean {
    if (this.#closed) return false;
    if (this.ws.bufferedAmount + data.length > this.deps.limits.maxBufferedBytes) {
      this.drop('slow');
      return false;
    }
    this.#write(data);
    this.deps.metrics.fannedOut.inc({ path: receivedAt ? 'live' : 'replay' });
    if (receivedAt) this.deps.metrics.latency.observe((Date.now() - receivedAt) / 1000);
    return true;
  }

  /** Closes with the reason's code; a client that does not read the close frame is cut off. */
  drop(reason: DropReason): void {
    if (this.#closed) return;
    this.deps.metrics.dropped.inc({ reason });
    const { code, reason: text } = CLOSE[reason];
    this.#onClose();
    this.ws.close(code, text);
    setTimeout(() => this.ws.terminate(), 1_000).unref();
  }

  #write(data: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.deps.feed.release(this.tenantId, this.deps.hub.remove(this));
    this.deps.metrics.liveChannels.set(this.deps.feed.channels);
    this.deps.metrics.connections.dec();
    this.deps.metrics.subscriptions.set(this.deps.hub.subscriptions);
  }

  #flooding(): boolean {
    const now = Date.now();
    if (now - this.#window.startedAt >= 1_000) this.#window = { startedAt: now, count: 0 };
    return ++this.#window.count > this.deps.limits.maxMessagesPerSecond;
  }

  async #onMessage(data: RawData, isBinary: boolean): Promise<void> {
    if (this.#flooding()) return this.drop('flood');
    let json: unknown;
    try {
      json = isBinary ? undefined : JSON.parse(data.toString());
    } catch {
      json = undefined;
    }
    const parsed = ClientMessage.safeParse(json);
    if (!parsed.success) {
      this.#write(frame({ type: 'error', error: 'bad_request', message: parsed.error.issues[0]?.message ?? 'bad' }));
      return;
    }
    const msg = parsed.data;
    try {
      await this.#handle(msg);
    } catch (err) {
      this.deps.logger.warn({ err }, 'client request failed');
      this.#write(frame({ type: 'error', error: 'unavailable', message: 'try again' }));
    }
  }

  async #handle(msg: ClientMessage): Promise<void> {
    switch (msg.type) {
      case 'ping':
        return this.#write(frame({ type: 'pong' }));
      case 'unsubscribe':
        this.#unsubscribe(msg.topics);
        return this.#write(frame({ type: 'unsubscribed', topics: msg.topics }));
      case 'subscribe':
        return this.#subscribe(msg.topics, msg.lastEventId, msg.replay === 'kept');
      case 'subscribe_state_updates':
        return this.#subscribe(msg.subscriptions, msg.lastEventId, false);
      default: {
        const never: never = msg;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Subscribes, waits until this replica holds the topics' live channels, then replays what the
   * client missed (by its last event id): the channel is subscribed before the log is read, so an
   * event the replay does not see still comes live. Live events arriving meanwhile wait in
   * `pending` and go out after the `subscribed` frame and the replay, minus those the replay
   * already sent (by sequence), so the client sees each event once, in order.
   */
  async #subscribe(topics: string[], lastEventId: string | undefined, fromStart: boolean): Promise<void> {
    if (this.#closed) return;
    this.pending ??= [];
    const added = this.deps.hub.subscribe(this, topics);
    this.deps.metrics.subscriptions.set(this.deps.hub.subscriptions);
    try {
      await this.#holdChannels(added);
      this.deps.metrics.liveChannels.set(this.deps.feed.channels);
      if (lastEventId === undefined && !fromStart) return this.#write(frame({ type: 'subscribed', topics }));
      const replay = fromStart
        ? { kind: 'ok' as const, entries: await this.deps.log.kept(this.tenantId) }
        : await this.deps.log.since(this.tenantId, lastEventId as string);
      this.deps.metrics.replays.inc({ outcome: replay.kind });
      if (replay.kind === 'gap') {
        this.#write(frame({ type: 'reload', reason: 'last event id is older than the replay log', lastEventId }));
      } else {
        this.#write(frame({ type: 'subscribed', topics, replayed: this.#replay(replay.entries) }));
      }
    } finally {
      this.#flushPending();
    }
  }

  /** The replica's live channels for newly added topics; if Redis refuses, the topics are given back. */
  async #holdChannels(added: string[]): Promise<void> {
    try {
      await this.deps.feed.hold(this.tenantId, added);
    } catch (err) {
      this.#unsubscribe(added);
      throw err;
    }
  }

  #unsubscribe(topics: string[]): void {
    this.deps.feed.release(this.tenantId, this.deps.hub.unsubscribe(this, topics));
    this.deps.metrics.subscriptions.set(this.deps.hub.subscriptions);
    this.deps.metrics.liveChannels.set(this.deps.feed.channels);
  }

  #replay(entries: Array<{ seq: string; json: string }>): number {
    let sent = 0;
    for (const e of entries) {
      const ce = JSON.parse(e.json);
      const routed = routeEvent(ce.type, ce.data);
      this.cursor = e.seq;
      if (!routed?.topics.some((t) => this.topics.has(t))) continue;
      if (!this.send(eventFrame(e.seq, ce, routed))) return sent;
      sent++;
    }
    return sent;
  }

  #flushPending(): void {
    const waiting = this.pending ?? [];
    this.pending = undefined;
    for (const f of waiting) offer(this, f);
  }
}
