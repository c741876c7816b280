import { once } from 'node:events';
import { CHANNELS_CHANNEL, type Database, listen } from '@switchboard/db';
import {
  CHANNEL_SECRETS_SNAPSHOT_KEY,
  type ChannelSecretsSnapshot,
  channelSecretsAnnouncements,
  coalesce,
  type Logger,
  sealSnapshot,
} from '@switchboard/platform';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { allChannelSecrets, type ChannelSecretRow } from '../store/channel-secrets.ts';

/** Sent on commit by the `channel_secrets` trigger (migration 0013): a secret was added, rotated or removed. */
export const CHANNEL_SECRETS_CHANNEL = 'switchboard_channel_secrets';

/** Rows (one per secret, current first) → one entry per channel. */
export function toSnapshot(rows: ChannelSecretRow[], version: number): ChannelSecretsSnapshot {
  const byAccount = new Map<string, ChannelSecretsSnapshot['channels'][number]>();
  for (const r of rows) {
    const key = `${r.provider}\u0000${r.account_id}`;
    let entry = byAccount.get(key);
    if (!entry) {
      entry = { provider: r.provider, accountId: r.account_id, status: r.status, secrets: [] };
      byAccount.set(key, entry);
    }
    if (r.secret !== null) {
      entry.secrets.push({ secret: r.secret, expiresAt: r.expires_at ? new Date(r.expires_at).getTime() : null });
    }
  }
  return { version, channels: [...byAccount.values()] };
}

/**
 * The channel registry's owner publishes its secrets to the edges (see channel-secrets-snapshot.ts
 * in the platform): at start, after every change it hears (the `channels` and `channel_secrets`
 * NOTIFY, sent on commit), when it starts hearing them again, and every `everyMs` (a change missed
 * while not listening). Each publish reads the whole registry and replaces the sealed snapshot in
 * Redis, then announces it. Replicas all publish, without a lock: each one that hears a change
 * republishes after any publish it has in hand, so the last write of all was read after the last
 * commit (a replica that missed the NOTIFY is healed by the next period). Redis down: the edges
 * keep their copy and the next publish catches them up.
 */
export async function startChannelSecretsPublisher(
  deps: { db: Database; pool: pg.Pool; redis: Redis; logger: Logger },
  opts: { key: string; everyMs: number },
) {
  const announce = channelSecretsAnnouncements(deps.redis.options.keyPrefix ?? '');
  // A client without an offline queue refuses commands until it is connected: a publish while it
  // is still making its first connection (at start, when the LISTEN connection comes up first)
  // waits for it rather than failing. While Redis is down it fails at once, as before.
  const connected = async () => {
    if (['wait', 'connecting', 'connect'].includes(deps.redis.status))
      await once(deps.redis, 'ready', { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  };
  const publish = async () => {
    try {
      await connected();
      const version = Date.now();
      const sealed = sealSnapshot(toSnapshot(await allChannelSecrets(deps.db), version), opts.key);
      await deps.redis.multi().set(CHANNEL_SECRETS_SNAPSHOT_KEY, sealed).publish(announce, String(version)).exec();
    } catch (err) {
      deps.logger.warn({ err }, 'could not publish channel secrets; will try again');
    }
  };
  const request = coalesce(publish);
  const handlers = { onNotify: () => void request(), onListening: () => void request(), onDown: () => undefined };
  const listeners = [CHANNELS_CHANNEL, CHANNEL_SECRETS_CHANNEL].map((channel) =>
    listen(deps.pool, channel, handlers, { logger: deps.logger }),
  );
  const timer = setInterval(() => void request(), opts.everyMs);
  timer.unref();
  // The first copy (once Redis is connected, as every publish).
  await request();
  return {
    /** Publishes now (tests, and after a change this process made itself). */
    publish: request,
    async stop() {
      clearInterval(timer);
      await Promise.all(listeners.map((l) => l.stop()));
      await request();
    },
  };
}
