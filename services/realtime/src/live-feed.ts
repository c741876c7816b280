import type { Redis } from '@switchboard/platform';
import { channelOf } from './event-log.ts';

interface Held {
  tenantId: string;
  topic: string;
  /** This replica's clients subscribed to it. */
  holders: number;
  /** Settles once Redis has confirmed the SUBSCRIBE. */
  ready: Promise<unknown>;
}

/**
 * One replica's share of the live feed: it is subscribed to a tenant topic's channel while at least
 * one of its own clients subscribes to that topic, and only then, so a replica reads what its
 * clients need rather than every event. `hold` settles once Redis has confirmed the subscription:
 * from then on every event published on the channel reaches this replica, so a client that replays
 * the log after it cannot fall between the replay and the live feed.
 *
 * Pub/sub keeps nothing for a subscriber that is away: when the subscriber connection drops,
 * `onInterrupted` runs (the gateway then closes its clients, which resume from the replay log).
 */
export class LiveFeed {
  readonly #held = new Map<string, Held>();
  #stopped = false;

  constructor(
    private readonly sub: Redis,
    private readonly keyPrefix: string,
    handlers: {
      onMessage: (tenantId: string, topic: string, message: string) => void;
      onInterrupted: () => void;
    },
  ) {
    sub.on('message', (channel: string, message: string) => {
      const held = this.#held.get(channel);
      if (held) handlers.onMessage(held.tenantId, held.topic, message);
    });
    sub.on('close', () => {
      if (!this.#stopped) handlers.onInterrupted();
    });
  }

  /** Channels this replica is subscribed to. */
  get channels(): number {
    return this.#held.size;
  }

  /** Takes one hold on each topic's channel; resolves once every one of them is subscribed. */
  async hold(tenantId: string, topics: string[]): Promise<void> {
    const waits: Array<Promise<unknown>> = [];
    for (const topic of topics) {
      const channel = channelOf(this.keyPrefix, tenantId, topic);
      let held = this.#held.get(channel);
      if (!held) {
        const fresh: Held = { tenantId, topic, holders: 0, ready: Promise.resolve() };
        // A failed SUBSCRIBE is forgotten, so the next client to ask tries again.
        fresh.ready = this.sub.subscribe(channel).catch((err: unknown) => {
          if (this.#held.get(channel) === fresh) this.#held.delete(channel);
          throw err;
        });
        held = fresh;
        this.#held.set(channel, held);
      }
      held.holders++;
      waits.push(held.ready);
    }
    await Promise.all(waits);
  }

  /** Gives back one hold on each topic's channel; the last one out unsubscribes. */
  release(tenantId: string, topics: string[]): void {
    for (const topic of topics) {
      const channel = channelOf(this.keyPrefix, tenantId, topic);
      const held = this.#held.get(channel);
      if (!held || --held.holders > 0) continue;
      this.#held.delete(channel);
      // Commands on one connection run in order: a later SUBSCRIBE of the channel lands after this.
      this.sub.unsubscribe(channel).catch(() => undefined);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.sub.disconnect();
  }
}
