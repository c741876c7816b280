import { CHANNELS_CHANNEL, type Database, type Executor, listen, schema } from '@switchboard/db';
import type { Logger } from '@switchboard/platform';
import { and, eq } from 'drizzle-orm';
import type pg from 'pg';

export interface Channel {
  id: string;
  tenantId: string;
  provider: string;
  accountId: string;
  status: string;
}

export type ResolveChannel = (provider: string, accountId: string) => Promise<Channel | null>;

/** A provider account's channel as stored now, or null. */
export const loadChannel =
  (db: Executor): ResolveChannel =>
  async (provider, accountId) => {
    const [row] = await db
      .select({
        id: schema.channels.id,
        tenantId: schema.channels.tenantId,
        provider: schema.channels.provider,
        accountId: schema.channels.accountId,
        status: schema.channels.status,
      })
      .from(schema.channels)
      .where(and(eq(schema.channels.provider, provider), eq(schema.channels.accountId, accountId)));
    return row ?? null;
  };

export interface ChannelCache {
  resolve: ResolveChannel;
  /** A channel changed (the payload of the `channels` NOTIFY): its account's answer is dropped. */
  changed: (payload: string) => void;
  /** Changes are announced from now on: answers may be cached. */
  listening: () => void;
  /** Changes may go unannounced: nothing is cached until `listening` again. */
  down: () => void;
  readonly size: number;
}

/**
 * Provider account → channel (and so tenant), for every inbound event. Answers, "no channel"
 * included, are cached in-process only while the `channels` trigger's NOTIFY is heard: a channel
 * added, disabled or re-enabled drops its account's answer at commit, so an event right after
 * `npm run channels -- add` finds the channel. (A short negative TTL would still park the events of
 * its first moments, and would not help a disabled channel.) While the listener is down every
 * lookup reads Postgres; `ttlMs` bounds an answer's life anyway, and at most `maxEntries` accounts
 * are kept (least recently used first out), so a flood of made-up accounts costs a bounded cache.
 * Concurrent lookups of one account share one query.
 */
export function createChannelCache(
  load: ResolveChannel,
  opts: { ttlMs: number; maxEntries: number; now?: () => number },
): ChannelCache {
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { at: number; channel: Promise<Channel | null> }>();
  let enabled = false;
  const keyOf = (provider: string, accountId: string) => `${provider}\u0000${accountId}`;
  return {
    async resolve(provider, accountId) {
      if (!enabled) return load(provider, accountId);
      const key = keyOf(provider, accountId);
      const hit = cache.get(key);
      cache.delete(key);
      if (hit && now() - hit.at < opts.ttlMs) {
        cache.set(key, hit); // most recently used last
        return hit.channel;
      }
      const entry = { at: now(), channel: load(provider, accountId) };
      cache.set(key, entry);
      // A failed lookup is not an answer; a change heard meanwhile has already dropped the entry.
      entry.channel.catch(() => cache.get(key) === entry && cache.delete(key));
      for (const oldest of cache.keys()) {
        if (cache.size <= opts.maxEntries) break;
        cache.delete(oldest);
      }
      return entry.channel;
    },
    changed(payload) {
      try {
        const { provider, accountId } = JSON.parse(payload) as { provider?: unknown; accountId?: unknown };
        if (typeof provider === 'string' && typeof accountId === 'string') {
          cache.delete(keyOf(provider, accountId));
          return;
        }
      } catch {
        // Fall through: a payload we cannot read could name any account.
      }
      cache.clear();
    },
    listening() {
      cache.clear();
      enabled = true;
    },
    down() {
      enabled = false;
      cache.clear();
    },
    get size() {
      return cache.size;
    },
  };
}

/**
 * The resolver both workers use: the channel cache over Postgres, kept true by the `channels`
 * NOTIFY on a connection of its own. `stop` ends the listener (the cache then reads through).
 */
export function startChannelResolver(
  conn: { pool: pg.Pool; db: Database },
  opts: { ttlMs: number; maxEntries: number; logger: Logger },
): { cache: ChannelCache; stop: () => Promise<void> } {
  const cache = createChannelCache(loadChannel(conn.db), { ttlMs: opts.ttlMs, maxEntries: opts.maxEntries });
  const listener = listen(
    conn.pool,
    CHANNELS_CHANNEL,
    { onNotify: cache.changed, onListening: cache.listening, onDown: cache.down },
    { logger: opts.logger },
  );
  return { cache, stop: () => listener.stop() };
}
