import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ConfigError, secret } from './config.ts';
import { DependencyUnavailableError } from './edge.ts';

/**
 * Per-channel webhook secrets for the stateless edges. The edges have no Postgres, so they ask
 * the sync-worker (which owns the channel registry) over its internal endpoint
 * `GET /internal/channels/:provider/:accountId/secrets`, authenticated with the shared
 * `INTERNAL_API_TOKEN`, and cache each answer for `ttlMs`. A channel with secrets verifies only
 * with them (current and, during a rotation's grace period, previous); an account without
 * secrets, or one the registry does not know, verifies with the env default. When the registry
 * cannot be reached, a cached answer (even a stale one) is used; with none, the request gets 503
 * and the provider retries: never the env default, which would let a rotated-away secret back in.
 * A rotation or a new secret is seen within `ttlMs`.
 *
 * The account comes from a body nobody has verified yet, so what one request can cost is bounded:
 * one lookup per account at a time (concurrent requests for it share it), answers kept in two LRU
 * caches of `maxEntries` each, one for accounts the registry knows (with or without secrets of
 * their own) and one for those it does not, so a flood of made-up accounts only churns the second
 * and never pushes a real channel out.
 */
export type SecretsFor = (provider: string, accountId: string, envDefault: string) => Promise<string[]>;

export interface ChannelSecretsOptions {
  /** The sync-worker's base URL; unset, every channel uses the env default. */
  url?: string | undefined;
  token: string;
  /** How long an answer (the channel's secrets, or that it has none) is believed. */
  ttlMs: number;
  /** Accounts remembered per kind (known to the registry, unknown); the least recently used go first. */
  maxEntries?: number;
  timeoutMs?: number;
}

/** Lookups made and answers kept, declared by each edge's metrics file on its registry. */
export const channelSecretMetrics = (registry: Registry) => ({
  lookups: new Counter({
    name: 'channel_secret_lookups_total',
    help: "Questions to the channel registry for an account's webhook secrets, by answer (known, unknown, failed)",
    labelNames: ['result'] as const,
    registers: [registry],
  }),
  cached: new Gauge({
    name: 'channel_secrets_cached',
    help: 'Accounts whose answer from the channel registry is cached, by kind (known, unknown)',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
});
export type ChannelSecretMetrics = ReturnType<typeof channelSecretMetrics>;

interface Answer {
  at: number;
  /** The registry has a channel for the account (its secrets may still be none). */
  known: boolean;
  secrets: string[];
}

/** Asks the sync-worker's internal route; a 404 means the registry has no such channel. */
async function fetchAnswer(opts: ChannelSecretsOptions, provider: string, accountId: string): Promise<Answer> {
  const url = `${opts.url}/internal/channels/${encodeURIComponent(provider)}/${encodeURIComponent(accountId)}/secrets`;
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${opts.token}` },
    signal: AbortSignal.timeout(opts.timeoutMs ?? 2_000),
  });
  if (res.status === 404) return { at: Date.now(), known: false, secrets: [] };
  if (!res.ok) throw new Error(`channel registry answered ${res.status}`);
  const body = (await res.json()) as { secrets?: unknown };
  if (!Array.isArray(body.secrets) || !body.secrets.every((s) => typeof s === 'string')) {
    throw new Error('channel registry answered without a secrets list');
  }
  return { at: Date.now(), known: true, secrets: body.secrets as string[] };
}

export function createChannelSecrets(opts: ChannelSecretsOptions, metrics?: ChannelSecretMetrics): SecretsFor {
  const max = opts.maxEntries ?? 10_000;
  const known = new LRUCache<string, Answer>({ max });
  const unknown = new LRUCache<string, Answer>({ max });
  const inflight = new Map<string, Promise<Answer>>();
  // One lookup per account at a time; its answer goes to the cache of its kind (and out of the other).
  const lookup = (provider: string, accountId: string, key: string): Promise<Answer> => {
    let pending = inflight.get(key);
    if (pending) return pending;
    pending = fetchAnswer(opts, provider, accountId)
      .then((answer) => {
        metrics?.lookups.inc({ result: answer.known ? 'known' : 'unknown' });
        (answer.known ? unknown : known).delete(key);
        (answer.known ? known : unknown).set(key, answer);
        metrics?.cached.set({ kind: 'known' }, known.size);
        metrics?.cached.set({ kind: 'unknown' }, unknown.size);
        return answer;
      })
      .catch((err: Error) => {
        metrics?.lookups.inc({ result: 'failed' });
        throw err;
      })
      .finally(() => inflight.delete(key));
    inflight.set(key, pending);
    return pending;
  };
  return async (provider, accountId, envDefault) => {
    if (!opts.url) return [envDefault];
    const key = `${provider}\u0000${accountId}`;
    const hit = known.get(key) ?? unknown.get(key);
    let secrets: string[];
    if (hit && Date.now() - hit.at < opts.ttlMs) secrets = hit.secrets;
    else {
      try {
        secrets = (await lookup(provider, accountId, key)).secrets;
      } catch (err) {
        if (!hit) throw new DependencyUnavailableError(`channel secrets unavailable: ${(err as Error).message}`);
        secrets = hit.secrets;
      }
    }
    return secrets.length > 0 ? secrets : [envDefault];
  };
}

/** The edges' settings for per-channel secrets, parsed with the rest of their config. */
export function channelSecretsConfig(source: NodeJS.ProcessEnv): ChannelSecretsOptions {
  const url = source.CHANNEL_SECRETS_URL;
  const ttl = Number(source.CHANNEL_SECRETS_CACHE_TTL_MS ?? 10_000);
  const max = Number(source.CHANNEL_SECRETS_CACHE_MAX ?? 10_000);
  if (!Number.isInteger(ttl) || ttl < 0) {
    throw new ConfigError('invalid configuration:\n  CHANNEL_SECRETS_CACHE_TTL_MS: a whole number of milliseconds');
  }
  if (!Number.isInteger(max) || max < 1) {
    throw new ConfigError(
      'invalid configuration:\n  CHANNEL_SECRETS_CACHE_MAX: a whole number of accounts, at least 1',
    );
  }
  if (url !== undefined && url !== '' && !/^https?:\/\/[^\s]+$/.test(url)) {
    throw new ConfigError('invalid configuration:\n  CHANNEL_SECRETS_URL: an http(s) URL of the sync-worker');
  }
  return {
    url: url ? url.replace(/\/+$/, '') : undefined,
    token: secret(source, 'INTERNAL_API_TOKEN', 'dev-internal-token'),
    ttlMs: ttl,
    maxEntries: max,
  };
}
