import type { Redis } from 'ioredis';

/**
 * The replay log in Redis. Each tenant has a stream (`rt:log:<tenant>`, trimmed to about
 * `maxLen` entries) whose entry ids are the per-tenant sequence clients resume from; a key per
 * CloudEvents id (`rt:id:<tenant>:<id>`) maps it to its entry, and doubles as the dedupe record
 * (the bus is at-least-once). Every append is also published on one pub/sub channel per topic it
 * reaches (`rt:ch:<tenant>:<topic>`, see `channelOf`): a replica subscribes only to the channels
 * of its own clients' subscriptions, so it reads only what it sends. One Lua script does all of
 * it, so the log and the channels cannot disagree, a redelivery appends and publishes nothing, and
 * the publishes of one tenant come out in sequence order.
 */

const APPEND = `
local seen = redis.call('GET', KEYS[1])
if seen then return {0, seen} end
local seq = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1], 'r', ARGV[4])
redis.call('SET', KEYS[1], seq, 'PX', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local payload = seq .. ' ' .. ARGV[4] .. ' ' .. ARGV[1]
for i = 5, #ARGV do redis.call('PUBLISH', KEYS[3] .. ARGV[i], payload) end
return {1, seq}
`;

export interface LogOptions {
  /** Entries kept per tenant (approximately; Redis trims whole nodes). */
  maxLen: number;
  /** How long a tenant's log and its id keys live after the last append. */
  ttlMs: number;
}

/** One published event: the event as it was on the bus, its tenant and sequence. */
export interface LiveEntry {
  tenantId: string;
  seq: string;
  /** The CloudEvent's JSON text, as it came off the bus. */
  json: string;
  /** When the gateway took it off the bus (ms since epoch), for the bus → client latency. */
  receivedAt: number;
}

export type Replay = { kind: 'gap' } | { kind: 'ok'; entries: Array<{ seq: string; json: string }> };

const idKey = (tenant: string, id: string) => `rt:id:${tenant}:${id}`;
const logKey = (tenant: string) => `rt:log:${tenant}`;
/** The channel name prefix of a tenant's topics (it goes through the key prefix like a key). */
const channelBase = (tenant: string) => `rt:ch:${tenant}:`;

/** The pub/sub channel of one tenant's topic; `keyPrefix` is the Redis key prefix (channels get none). */
export const channelOf = (keyPrefix: string, tenant: string, topic: string) =>
  `${keyPrefix}${channelBase(tenant)}${topic}`;

/** Reads a channel message back: `<seq> <receivedAt> <event JSON>`. */
export function parsePublished(tenantId: string, message: string): LiveEntry {
  const a = message.indexOf(' ');
  const b = message.indexOf(' ', a + 1);
  return {
    tenantId,
    seq: message.slice(0, a),
    receivedAt: Number(message.slice(a + 1, b)),
    json: message.slice(b + 1),
  };
}

/** Orders two stream ids (`<ms>-<n>`) numerically. */
export function compareSeq(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('-').map(Number);
  const [bm = 0, bn = 0] = b.split('-').map(Number);
  return am - bm || an - bn;
}

type AppendCommand = (...keysAndArgs: Array<string | number>) => Promise<[number, string]>;

export function createEventLog(redis: Redis, opts: LogOptions) {
  // Sent once, then called by its SHA (EVALSHA): the script text is not on every append's wire.
  redis.defineCommand('realtimeAppend', { numberOfKeys: 3, lua: APPEND });
  const appendScript = (redis as unknown as { realtimeAppend: AppendCommand }).realtimeAppend.bind(redis);
  return {
    /**
     * Appends an event once per CloudEvents id and publishes it on its topics' channels;
     * `appended: false` for one already in the log (then nothing is published).
     */
    async append(tenantId: string, eventId: string, json: string, receivedAt: number, topics: string[]) {
      // The channel base is passed as a key only so that the connection's key prefix applies to it.
      const keys = [idKey(tenantId, eventId), logKey(tenantId), channelBase(tenantId)];
      const args = [json, opts.maxLen, opts.ttlMs, receivedAt, ...topics];
      const [fresh, seq] = await appendScript(...keys, ...args);
      return { appended: fresh === 1, seq };
    },

    /**
     * What a tenant's log holds after the event `eventId`, oldest first. A gap when the id is not
     * (or no longer) known, or its entry was trimmed: entries are trimmed oldest first, so while
     * the last-seen entry is still there nothing after it is missing.
     */
    async since(tenantId: string, eventId: string): Promise<Replay> {
      const seq = await redis.get(idKey(tenantId, eventId));
      if (!seq) return { kind: 'gap' };
      const self = await redis.xrange(logKey(tenantId), seq, seq);
      if (self.length === 0) return { kind: 'gap' };
      return { kind: 'ok', entries: await readAfter(redis, logKey(tenantId), `(${seq}`) };
    },

    /**
     * Removes from a tenant's log every entry `erased` says is about an erased customer (GDPR: the
     * log holds message texts). A client resuming from a removed entry's id is told to reload.
     * Returns how many it removed.
     */
    async erase(tenantId: string, erased: (json: string) => boolean): Promise<number> {
      const doomed = (await readAfter(redis, logKey(tenantId), '-')).filter((e) => erased(e.json)).map((e) => e.seq);
      for (let i = 0; i < doomed.length; i += 500) await redis.xdel(logKey(tenantId), ...doomed.slice(i, i + 500));
      return doomed.length;
    },

    /** Everything a tenant's log keeps, oldest first (a console building its first view). */
    async kept(tenantId: string) {
      return readAfter(redis, logKey(tenantId), '-');
    },
  };
}
export type EventLog = ReturnType<typeof createEventLog>;

async function readAfter(redis: Redis, key: string, start: string) {
  const out: Array<{ seq: string; json: string }> = [];
  let from = start;
  for (;;) {
    const page = await redis.xrange(key, from, '+', 'COUNT', 500);
    for (const [seq, fields] of page) out.push({ seq, json: fieldMap(fields).e ?? '' });
    const last = page.at(-1);
    if (page.length < 500 || !last) return out;
    from = `(${last[0]}`;
  }
}

function fieldMap(fields: string[]): Record<string, string> {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
  return f;
}
