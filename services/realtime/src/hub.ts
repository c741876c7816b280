import { compareSeq } from './event-log.ts';

/**
 * One replica's subscribers, indexed tenant → topic → clients, so an event costs a lookup per
 * topic it reaches rather than a scan of every connection. A client is one tenant's connection;
 * it never sits in another tenant's index, whatever topic it asked for.
 */

/** What the hub needs of a connection: its tenant, and a send that may refuse (then it is dropped). */
export interface Subscriber {
  readonly tenantId: string;
  readonly topics: Set<string>;
  /** The last sequence sent; live events at or before it are duplicates of a replay. */
  cursor: string | undefined;
  /** While a replay runs, live events wait here and are sent after it, in order. */
  pending: Frame[] | undefined;
  /** Sends one frame; false when the client is too far behind and has been dropped. */
  send(frame: string, receivedAt?: number): boolean;
}

export interface Frame {
  seq: string;
  frame: string;
  /** When the event came off the bus, for the latency histogram (live events only). */
  receivedAt?: number;
}

export class Hub {
  readonly #index = new Map<string, Map<string, Set<Subscriber>>>();
  #subscriptions = 0;

  get subscriptions(): number {
    return this.#subscriptions;
  }

  /** Adds the client to each topic; returns the topics it was not yet subscribed to. */
  subscribe(client: Subscriber, topics: string[]): string[] {
    const added: string[] = [];
    const byTopic = this.#index.get(client.tenantId) ?? new Map<string, Set<Subscriber>>();
    this.#index.set(client.tenantId, byTopic);
    for (const t of topics) {
      if (client.topics.has(t)) continue;
      client.topics.add(t);
      const set = byTopic.get(t) ?? new Set<Subscriber>();
      byTopic.set(t, set);
      set.add(client);
      added.push(t);
      this.#subscriptions++;
    }
    return added;
  }

  /** Takes the client off each topic; returns the topics it was subscribed to. */
  unsubscribe(client: Subscriber, topics: Iterable<string>): string[] {
    const removed: string[] = [];
    const byTopic = this.#index.get(client.tenantId);
    for (const t of [...topics]) {
      if (!client.topics.delete(t)) continue;
      removed.push(t);
      this.#subscriptions--;
      const set = byTopic?.get(t);
      set?.delete(client);
      if (set?.size === 0) byTopic?.delete(t);
    }
    if (byTopic?.size === 0) this.#index.delete(client.tenantId);
    return removed;
  }

  remove(client: Subscriber): string[] {
    return this.unsubscribe(client, client.topics);
  }

  /** The tenant's clients subscribed to `topic` (a copy: sending may drop one). */
  subscribers(tenantId: string, topic: string): Subscriber[] {
    const set = this.#index.get(tenantId)?.get(topic);
    return set ? [...set] : [];
  }

  /** The tenant's clients subscribed to any of `topics`, each once. */
  audience(tenantId: string, topics: string[]): Set<Subscriber> {
    const out = new Set<Subscriber>();
    const byTopic = this.#index.get(tenantId);
    if (!byTopic) return out;
    for (const t of topics) for (const c of byTopic.get(t) ?? []) out.add(c);
    return out;
  }
}

/** A live event for one client: held during its replay, dropped when the replay already sent it. */
export function offer(client: Subscriber, f: Frame): boolean {
  if (client.pending) {
    client.pending.push(f);
    return false;
  }
  if (client.cursor !== undefined && compareSeq(f.seq, client.cursor) <= 0) return false;
  client.cursor = f.seq;
  return client.send(f.frame, f.receivedAt);
}
