import {
  CHANNEL_SECRETS_SNAPSHOT_KEY,
  type ChannelSecrets,
  type ChannelSecretsSnapshot,
  channelSecretMetrics,
  createLogger,
  DependencyUnavailableError,
  Registry,
  sealSnapshot,
  startChannelSecrets,
} from '@switchboard/platform';
import { testRedisPrefix, testUrls } from '@switchboard/testing';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * The rules an edge's per-channel secrets keep, whatever feeds them (they were the unit tests of
 * the edges' registry client before the registry reached the edges as a snapshot): a channel's
 * own secrets, current first, and only them; the env default for an account without secrets or
 * unknown to the registry; a registry that cannot be read leaves the last copy in use, and with
 * no copy at all the answer is 503, never the env default; the registry off, the env default.
 */
const KEY = 'test-channel-secrets-key';
const ENV_DEFAULT = 'env-default-secret';
const now = Date.now();
const snapshot: ChannelSecretsSnapshot = {
  version: now,
  channels: [
    {
      provider: 'whatsapp',
      accountId: '111',
      status: 'active',
      secrets: [
        { secret: 'current-secret', expiresAt: null },
        { secret: 'previous-secret', expiresAt: now + 3_600_000 },
        { secret: 'expired-secret', expiresAt: now - 1_000 },
      ],
    },
    { provider: 'whatsapp', accountId: '222', status: 'active', secrets: [] },
  ],
};

let prefix: ReturnType<typeof testRedisPrefix>;
let redis: Redis;
const started: ChannelSecrets[] = [];
const logger = createLogger('test', 'silent');
beforeEach(async () => {
  prefix = testRedisPrefix();
  await prefix.ready;
  redis = new Redis(testUrls.redis, { keyPrefix: prefix.prefix });
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
  redis.disconnect();
  await prefix.cleanup();
});

async function start(enabled = true, bootWaitMs = 3_000) {
  const metrics = channelSecretMetrics(new Registry());
  const secrets = await startChannelSecrets(redis, {
    enabled,
    key: KEY,
    resyncMs: 60_000,
    logger,
    metrics,
    bootWaitMs,
  });
  started.push(secrets);
  return { secrets, metrics };
}

describe("an edge's channel secrets", () => {
  it('verify a channel with its own secrets only, current first, those in their grace period after', async () => {
    await redis.set(CHANNEL_SECRETS_SNAPSHOT_KEY, sealSnapshot(snapshot, KEY));
    const { secrets } = await start();
    expect(await secrets.secretsFor('whatsapp', '111', ENV_DEFAULT)).toEqual(['current-secret', 'previous-secret']);
  });

  it('fall back to the env default for a channel without secrets or an account the registry does not know', async () => {
    await redis.set(CHANNEL_SECRETS_SNAPSHOT_KEY, sealSnapshot(snapshot, KEY));
    const { secrets } = await start();
    expect(await secrets.secretsFor('whatsapp', '222', ENV_DEFAULT)).toEqual([ENV_DEFAULT]);
    expect(await secrets.secretsFor('whatsapp', '999', ENV_DEFAULT)).toEqual([ENV_DEFAULT]);
    expect(await secrets.secretsFor('genesys', '111', ENV_DEFAULT)).toEqual([ENV_DEFAULT]);
  });

  it('keep the last copy when the registry cannot be read, and answer 503 with none, never the env default', async () => {
    const { secrets: none, metrics } = await start(true, 200);
    await expect(none.secretsFor('whatsapp', '111', ENV_DEFAULT)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect((await metrics.lookups.get()).values.find((v) => v.labels.result === 'failed')?.value).toBe(1);

    await redis.set(CHANNEL_SECRETS_SNAPSHOT_KEY, sealSnapshot(snapshot, KEY));
    const { secrets } = await start();
    await redis.set(CHANNEL_SECRETS_SNAPSHOT_KEY, 'not a snapshot');
    await secrets.reload();
    expect(await secrets.secretsFor('whatsapp', '111', ENV_DEFAULT)).toEqual(['current-secret', 'previous-secret']);
  });

  it('are the env default for every account with the registry off', async () => {
    await redis.set(CHANNEL_SECRETS_SNAPSHOT_KEY, sealSnapshot(snapshot, KEY));
    const { secrets } = await start(false);
    expect(await secrets.secretsFor('whatsapp', '111', ENV_DEFAULT)).toEqual([ENV_DEFAULT]);
  });
});
