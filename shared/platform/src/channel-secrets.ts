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
 */
export type SecretsFor = (provider: string, accountId: string, envDefault: string) => Promise<string[]>;

export interface ChannelSecretsOptions {
  /** The sync-worker's base URL; unset, every channel uses the env default. */
  url?: string | undefined;
  token: string;
  ttlMs: number;
  timeoutMs?: number;
}

export function createChannelSecrets(opts: ChannelSecretsOptions): SecretsFor {
  const cache = new Map<string, { at: number; secrets: string[] }>();
  const inflight = new Map<string, Promise<string[]>>();
  const load = async (provider: string, accountId: string): Promise<string[]> => {
    const url = `${opts.url}/internal/channels/${encodeURIComponent(provider)}/${encodeURIComponent(accountId)}/secrets`;
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${opts.token}` },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 2_000),
    });
    if (res.status === 404) return [];
    if (!res.ok) throw new Error(`channel registry answered ${res.status}`);
    const body = (await res.json()) as { secrets?: unknown };
    if (!Array.isArray(body.secrets) || !body.secrets.every((s) => typeof s === 'string')) {
      throw new Error('channel registry answered without a secrets list');
    }
    return body.secrets as string[];
  };
  return async (provider, accountId, envDefault) => {
    if (!opts.url) return [envDefault];
    const key = `${provider}\u0000${accountId}`;
    const hit = cache.get(key);
    let secrets: string[];
    if (hit && Date.now() - hit.at < opts.ttlMs) secrets = hit.secrets;
    else {
      let pending = inflight.get(key);
      if (!pending) {
        pending = load(provider, accountId).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      try {
        secrets = await pending;
        cache.set(key, { at: Date.now(), secrets });
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
  if (!Number.isInteger(ttl) || ttl < 0) {
    throw new ConfigError('invalid configuration:\n  CHANNEL_SECRETS_CACHE_TTL_MS: a whole number of milliseconds');
  }
  if (url !== undefined && url !== '' && !/^https?:\/\/[^\s]+$/.test(url)) {
    throw new ConfigError('invalid configuration:\n  CHANNEL_SECRETS_URL: an http(s) URL of the sync-worker');
  }
  return {
    url: url ? url.replace(/\/+$/, '') : undefined,
    token: secret(source, 'INTERNAL_API_TOKEN', 'dev-internal-token'),
    ttlMs: ttl,
  };
}
