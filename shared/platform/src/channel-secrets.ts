import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  CHANNEL_SECRETS_SNAPSHOT_KEY,
  type ChannelSecretsSnapshot,
  channelSecretsAnnouncements,
  openSnapshot,
} from './channel-secrets-snapshot.ts';
import { ConfigError, secret } from './config.ts';
import { DependencyUnavailableError } from './edge.ts';
import type { Logger } from './logger.ts';

/**
 * Per-channel webhook secrets at the stateless edges, without a call into a worker. The edge
 * holds the whole registry in memory (see channel-secrets-snapshot.ts): loaded from Redis at boot,
 * reloaded when the publisher announces a new snapshot (pub/sub), on every reconnect of the
 * subscription (an announcement sent while it was down is lost) and every `resyncMs` (one lost any
 * other way). A verification reads memory only, so neither a sync-worker outage nor a Redis one
 * changes what the edge answers: it keeps serving its last copy. Only an edge that has never
 * loaded a registry answers 503 (the sender retries): it never falls back to the env default for
 * an account it cannot know the secrets of, which would let a rotated-away secret back in.
 *
 * A channel with secrets verifies only with them (current first, then those still in their grace
 * period, judged on the edge's clock); an account without secrets, or one the registry does not
 * know, verifies with the env default (the worker parks an unknown account's events). A made-up
 * account in an unverified body costs a map lookup, nothing more.
 */
export type SecretsFor = (provider: string, accountId: string, envDefault: string) => Promise<string[]>;

export interface ChannelSecretsOptions {
  /** Off: every channel verifies with the env default (no registry is read). */
  enabled: boolean;
  /** Opens the sealed snapshot; the publisher seals it with the same. */
  key: string;
  resyncMs: number;
}

/** Declared by each edge's metrics file on its registry. */
export const channelSecretMetrics = (registry: Registry) => ({
  loads: new Counter({
    name: 'channel_secrets_loads_total',
    help: "Reads of the channel registry's secrets snapshot from Redis, by result (loaded, unchanged, missing, failed)",
    labelNames: ['result'] as const,
    registers: [registry],
  }),
  accounts: new Gauge({
    name: 'channel_secrets_accounts',
    help: 'Provider accounts in the channel registry this edge holds',
    registers: [registry],
  }),
  version: new Gauge({
    name: 'channel_secrets_snapshot_timestamp_seconds',
    help: 'When the registry snapshot this edge holds was read from Postgres by the publisher (0: none yet)',
    registers: [registry],
  }),
  // The names the edges had when they asked the sync-worker for each account's secrets, kept for a
  // deprecation period (dashboards and alerts built on them keep working); the same facts now come
  // from the snapshot. Remove in a later release (see CHANGELOG).
  lookups: new Counter({
    name: 'channel_secret_lookups_total',
    help: "Deprecated: accounts looked up in the edge's copy of the channel registry, by answer (known, unknown, failed: no copy yet)",
    labelNames: ['result'] as const,
    registers: [registry],
  }),
  cached: new Gauge({
    name: 'channel_secrets_cached',
    help: 'Deprecated (channel_secrets_accounts): accounts the edge holds, by kind (known; unknown is always 0, none are remembered)',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
});
export type ChannelSecretMetrics = ReturnType<typeof channelSecretMetrics>;

type Entry = ChannelSecretsSnapshot['channels'][number];
const keyOf = (provider: string, accountId: string) => `${provider}\u0000${accountId}`;

export interface ChannelSecrets {
  secretsFor: SecretsFor;
  /** Loads now (coalesced with one in flight); resolves whether or not it succeeded. */
  reload: () => Promise<void>;
  stop: () => Promise<void>;
}

/** The registry an edge holds, fed from Redis; `start` waits up to `bootWaitMs` for a first copy. */
export async function startChannelSecrets(
  redis: Redis,
  opts: ChannelSecretsOptions & { logger: Logger; metrics?: ChannelSecretMetrics; bootWaitMs?: number },
): Promise<ChannelSecrets> {
  if (!opts.enabled) {
    return {
      secretsFor: async (_p, _a, envDefault) => [envDefault],
      reload: async () => undefined,
      stop: async () => undefined,
    };
  }
  let held: { version: number; byAccount: Map<string, Entry> } | undefined;
  const load = async () => {
    try {
      const sealed = await redis.get(CHANNEL_SECRETS_SNAPSHOT_KEY);
      if (sealed === null) return void opts.metrics?.loads.inc({ result: 'missing' });
      const snapshot = openSnapshot(sealed, opts.key);
      if (held && snapshot.version <= held.version) return void opts.metrics?.loads.inc({ result: 'unchanged' });
      held = {
        version: snapshot.version,
        byAccount: new Map(snapshot.channels.map((c) => [keyOf(c.provider, c.accountId), c])),
      };
      opts.metrics?.loads.inc({ result: 'loaded' });
      opts.metrics?.accounts.set(held.byAccount.size);
      opts.metrics?.cached.set({ kind: 'known' }, held.byAccount.size);
      opts.metrics?.cached.set({ kind: 'unknown' }, 0);
      opts.metrics?.version.set(snapshot.version / 1000);
    } catch (err) {
      opts.metrics?.loads.inc({ result: 'failed' });
      opts.logger.warn({ err }, 'could not load channel secrets; keeping the last copy');
    }
  };
  const reload = coalesce(load);
  const announcements = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  announcements.on('error', (err) => opts.logger.warn({ err }, 'channel secrets subscription error'));
  // Subscribed (again): what was announced meanwhile is read now.
  announcements.on('ready', () => void reload());
  announcements.on('message', () => void reload());
  void announcements.subscribe(channelSecretsAnnouncements(redis.options.keyPrefix ?? '')).catch(() => undefined);
  const timer = setInterval(() => void reload(), opts.resyncMs);
  timer.unref();
  await firstCopy(redis, reload, () => held !== undefined, opts.bootWaitMs ?? 3_000);
  return {
    reload,
    async secretsFor(provider, accountId, envDefault) {
      if (!held) {
        opts.metrics?.lookups.inc({ result: 'failed' });
        throw new DependencyUnavailableError('channel secrets not loaded yet');
      }
      const entry = held.byAccount.get(keyOf(provider, accountId));
      opts.metrics?.lookups.inc({ result: entry ? 'known' : 'unknown' });
      const now = Date.now();
      const valid = (entry?.secrets ?? [])
        .filter((s) => s.expiresAt === null || s.expiresAt > now)
        .map((s) => s.secret);
      return valid.length > 0 ? valid : [envDefault];
    },
    async stop() {
      clearInterval(timer);
      await announcements.quit().catch(() => announcements.disconnect());
    },
  };
}

/**
 * One run at a time. A call during a run gets one more run after it (shared by every call made
 * meanwhile) and resolves when that one ends, so a change made before the call is always seen.
 */
export function coalesce(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const next = (): Promise<void> => {
    if (!running) {
      running = run().finally(() => {
        running = undefined;
      });
      return running;
    }
    queued ??= running.then(() => {
      queued = undefined;
      return next();
    });
    return queued;
  };
  return next;
}

/** Waits (bounded) for Redis and a first copy, so an edge starting beside a live registry serves at once. */
async function firstCopy(redis: Redis, reload: () => Promise<void>, loaded: () => boolean, waitMs: number) {
  const deadline = Date.now() + waitMs;
  while (!loaded() && Date.now() < deadline) {
    if (redis.status === 'ready') await reload();
    if (!loaded()) await new Promise((r) => setTimeout(r, 100));
  }
}

/** The edges' settings for per-channel secrets, parsed with the rest of their config. */
export function channelSecretsConfig(source: NodeJS.ProcessEnv): ChannelSecretsOptions {
  const enabled = source.CHANNEL_SECRETS_REGISTRY ?? 'off';
  const resync = Number(source.CHANNEL_SECRETS_RESYNC_MS ?? 30_000);
  if (!['on', 'off'].includes(enabled)) {
    throw new ConfigError('invalid configuration:\n  CHANNEL_SECRETS_REGISTRY: on or off');
  }
  if (!Number.isInteger(resync) || resync < 100) {
    throw new ConfigError(
      'invalid configuration:\n  CHANNEL_SECRETS_RESYNC_MS: a whole number of milliseconds, at least 100',
    );
  }
  return {
    enabled: enabled === 'on',
    key: secret(source, 'CHANNEL_SECRETS_KEY', 'dev-channel-secrets-key'),
    resyncMs: resync,
  };
}
