import type { Redis } from 'ioredis';

/**
 * The replay log in Redis. Each tenant has a stream (`rt:log:<tenant>`, trimmed to about
 * `maxLen` entries) whose entry ids are the per-tenant sequence clients resume from; a key per
 * CloudEvents id (`rt:id:<tenant>:<id>`) maps it to its entry, and doubles as the dedupe record
 * (the bus is at-least-once). Every append is also written to one live stream (`rt:live`) that
 * every gateway replica tails, so each replica sees each event exactly once, in append order.
 * One Lua script does all of it, so the three cannot disagree and a redelivery appends nothing.
 */

const APPEND = `
local seen = redis.call('GET', KEYS[1])
if seen then return {0, seen} end
local seq = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])
redis.call('SET', KEYS[1], seq, 'PX', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 't', ARGV[4], 's', seq, 'e', ARGV[1], 'r', ARGV[6])
return {1, seq}
`;

export interface LogOptions {
  /** Entries kept per tenant (approximately; Redis trims whole nodes). */
  maxLen: number;
  /** How long a tenant's log and its id keys live after the last append. */
  ttlMs: number;
  /** Entries kept in the live stream: a replica that falls further behind resyncs its clients. */
  liveMaxLen: number;
}

/** One entry of the live stream: the event as it was on the bus, its tenant and sequence. */
export interface LiveEntry {
  liveId: string;
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
const LIVE_KEY = 'rt:live';

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
    /** Appends an event once per CloudEvents id; `appended: false` for one already in the log. */
    async append(tenantId: string, eventId: string, json: string, receivedAt: number) {
      const keys = [idKey(tenantId, eventId), logKey(tenantId), LIVE_KEY];
      const args = [json, opts.maxLen, opts.ttlMs, tenantId, opts.liveMaxLen, receivedAt];
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

    /** Everything a tenant's log keeps, oldest first (a console building its first view). */
    async kept(tenantId: string) {
      return readAfter(redis, logKey(tenantId), '-');
    },

    /** The newest id of the live stream, where a replica starts tailing. */
    async liveHead(): Promise<string> {
      const last = await redis.xrevrange(LIVE_KEY, '+', '-', 'COUNT', 1);
      return last[0]?.[0] ?? '0-0';
    },

    /** Live entries after `after`, waiting up to `blockMs` for one. Needs a connection of its own. */
    async readLive(blocking: Redis, after: string, blockMs: number): Promise<LiveEntry[]> {
      const res = await blocking.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', LIVE_KEY, after);
      const entries = res?.[0]?.[1] ?? [];
      return entries.map(([liveId, fields]) => {
        const f = fieldMap(fields);
        return { liveId, tenantId: f.t ?? '', seq: f.s ?? '', json: f.e ?? '', receivedAt: Number(f.r ?? 0) };
      });
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
