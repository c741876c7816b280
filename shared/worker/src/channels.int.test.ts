import { addChannel, CHANNELS_CHANNEL, createDb, devTenant, disableChannel, listen, seedTenant } from '@switchboard/db';
import { createLogger } from '@switchboard/platform';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChannelCache, createChannelCache, loadChannel, type ResolveChannel } from './channels.ts';

let database: TestDatabase;
let db: ReturnType<typeof createDb>;
let tenantId: string;
let stopListening: (() => Promise<void>) | undefined;
beforeEach(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 3, applicationName: 'channels-test' });
  tenantId = (await seedTenant(db.db, devTenant)).tenantId;
});
afterEach(async () => {
  await stopListening?.();
  stopListening = undefined;
  await db.pool.end();
  await database.drop();
});

/** The real loader, counting its queries. */
function countingLoader(): { load: ResolveChannel; queries: () => number } {
  const real = loadChannel(db.db);
  let n = 0;
  return {
    load: (provider, accountId) => {
      n += 1;
      return real(provider, accountId);
    },
    queries: () => n,
  };
}

/** A cache fed by the channels NOTIFY, as the sync-worker runs it; resolves once it listens. */
async function listeningCache(load: ResolveChannel, opts = { ttlMs: 600_000, maxEntries: 100 }) {
  const cache = createChannelCache(load, opts);
  let heard = false;
  const l = listen(
    db.pool,
    CHANNELS_CHANNEL,
    {
      onNotify: cache.changed,
      onListening: () => {
        heard = true;
        cache.listening();
      },
      onDown: () => {
        heard = false;
        cache.down();
      },
    },
    { logger: createLogger('test', 'silent'), retryMs: 50 },
  );
  stopListening = l.stop;
  await expect.poll(() => heard, { timeout: 5_000 }).toBe(true);
  return { cache, heard: () => heard };
}

const ACCOUNT = '106540352242999';

describe('the channel cache', () => {
  it('sees a channel added, disabled or removed at once, though answers are cached for ten minutes', async () => {
    const { load, queries } = countingLoader();
    const { cache } = await listeningCache(load);
    expect(await cache.resolve('whatsapp', ACCOUNT)).toBeNull();
    expect(await cache.resolve('whatsapp', ACCOUNT)).toBeNull();
    expect(queries()).toBe(1);

    const { id } = await addChannel(db.db, { tenantId, provider: 'whatsapp', accountId: ACCOUNT });
    await expect
      .poll(() => cache.resolve('whatsapp', ACCOUNT), { timeout: 2_000 })
      .toMatchObject({ id, tenantId, status: 'active' });
    await disableChannel(db.db, id);
    await expect
      .poll(async () => (await cache.resolve('whatsapp', ACCOUNT))?.status, { timeout: 2_000 })
      .toBe('disabled');
    await db.pool.query('delete from channels where id = $1', [id]);
    await expect.poll(() => cache.resolve('whatsapp', ACCOUNT), { timeout: 2_000 }).toBeNull();
  });

  it('reads Postgres while it cannot hear changes, and drops what it had when it hears again', async () => {
    const { load, queries } = countingLoader();
    const { cache, heard } = await listeningCache(load);
    expect(await cache.resolve('whatsapp', ACCOUNT)).toBeNull();
    // The listener's connection dies: a change made now is never announced.
    await db.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and query ilike 'listen %'`,
    );
    await addChannel(db.db, { tenantId, provider: 'whatsapp', accountId: ACCOUNT });
    await expect.poll(() => cache.resolve('whatsapp', ACCOUNT), { timeout: 5_000 }).not.toBeNull();
    await expect.poll(heard, { timeout: 5_000 }).toBe(true);
    const before = queries();
    await cache.resolve('whatsapp', ACCOUNT);
    await cache.resolve('whatsapp', ACCOUNT);
    expect(queries()).toBeLessThanOrEqual(before + 1);
    expect(await cache.resolve('whatsapp', ACCOUNT)).not.toBeNull();
  });

  it('keeps at most maxEntries accounts and asks once for concurrent lookups of one account', async () => {
    const { load, queries } = countingLoader();
    const { cache } = await listeningCache(load, { ttlMs: 600_000, maxEntries: 10 });
    await Promise.all(Array.from({ length: 20 }, () => cache.resolve('whatsapp', 'same-account')));
    expect(queries()).toBe(1);
    for (let i = 0; i < 500; i++) await cache.resolve('whatsapp', `made-up-${i}`);
    expect(cache.size).toBe(10);
    expect(queries()).toBe(501);
    // The most recently used stay; the first ones were dropped and are asked again.
    await cache.resolve('whatsapp', 'made-up-499');
    expect(queries()).toBe(501);
    await cache.resolve('whatsapp', 'made-up-0');
    expect(queries()).toBe(502);
  });

  it('answers from Postgres every time until it listens, and expires answers after ttlMs', async () => {
    const { load, queries } = countingLoader();
    let clock = 0;
    const cache: ChannelCache = createChannelCache(load, { ttlMs: 1_000, maxEntries: 10, now: () => clock });
    await cache.resolve('whatsapp', ACCOUNT);
    await cache.resolve('whatsapp', ACCOUNT);
    expect(queries()).toBe(2);
    cache.listening();
    await cache.resolve('whatsapp', ACCOUNT);
    await cache.resolve('whatsapp', ACCOUNT);
    expect(queries()).toBe(3);
    clock = 1_000;
    await cache.resolve('whatsapp', ACCOUNT);
    expect(queries()).toBe(4);
  });
});
