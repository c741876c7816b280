import { randomUUID } from 'node:crypto';
import { createDb, devTenant, seedTenant } from '@switchboard/db';
import { createLogger } from '@switchboard/platform';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { createMetrics } from './metrics.ts';
import { prune } from './retention.ts';

let database: TestDatabase;
let db: ReturnType<typeof createDb>;
let tenantId: string;
beforeEach(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 2, applicationName: 'retention-test' });
  tenantId = (await seedTenant(db.db, devTenant)).tenantId;
});
afterEach(async () => {
  await db.pool.end();
  await database.drop();
});

const HOUR = 3_600_000;

/** A status held at `heldAt` for a message that has not arrived. */
const hold = (provider: string, providerMessageId: string, heldAt: Date) =>
  db.pool.query(
    `insert into pending_statuses (tenant_id, provider, provider_message_id, status, at, event_id, held_at)
     values ($1, $2, $3, 'delivered', $4, $5, $4)`,
    [tenantId, provider, providerMessageId, heldAt, randomUUID()],
  );
const held = async () =>
  (await db.pool.query<{ id: string }>('select provider_message_id as id from pending_statuses order by id')).rows.map(
    (r) => r.id,
  );

describe('held statuses retention', () => {
  it('drops the statuses held longer than the retention, on the worker clock, and counts them', async () => {
    const t0 = new Date('2025-03-04T10:00:00Z');
    await hold('whatsapp', 'wamid.old', new Date(t0.getTime() - 8 * 24 * HOUR));
    await hold('genesys', 'gm-old', new Date(t0.getTime() - 7 * 24 * HOUR - 1));
    await hold('whatsapp', 'wamid.recent', new Date(t0.getTime() - HOUR));
    const metrics = createMetrics();
    let clock = t0;
    const opts = {
      db: db.db,
      pool: db.pool,
      logger: createLogger('test', 'silent'),
      metrics,
      now: () => clock,
      outboxRetentionMs: 72 * HOUR,
      inboxRetentionMs: 30 * 24 * HOUR,
      // The default: `HELD_STATUS_RETENTION_HOURS` as the worker parses it.
      heldStatusRetentionMs: loadConfig({}).HELD_STATUS_RETENTION_HOURS * HOUR,
    };

    await prune(opts);
    expect(await held()).toEqual(['wamid.recent']);
    const expired = async () =>
      (await metrics.heldStatusesExpired.get()).values.map((v) => [v.labels.provider, v.value]);
    expect(await expired()).toEqual(
      expect.arrayContaining([
        ['whatsapp', 1],
        ['genesys', 1],
      ]),
    );

    // Nothing more is due until the clock passes the last one's retention.
    await prune(opts);
    expect(await held()).toEqual(['wamid.recent']);
    clock = new Date(t0.getTime() + 7 * 24 * HOUR);
    await prune(opts);
    expect(await held()).toEqual([]);
    expect(await expired()).toEqual(
      expect.arrayContaining([
        ['whatsapp', 2],
        ['genesys', 1],
      ]),
    );
  });

  it('reads its retention from HELD_STATUS_RETENTION_HOURS', () => {
    expect(loadConfig({}).HELD_STATUS_RETENTION_HOURS).toBe(168);
    expect(loadConfig({ HELD_STATUS_RETENTION_HOURS: '1.5' }).HELD_STATUS_RETENTION_HOURS).toBe(1.5);
    expect(() => loadConfig({ HELD_STATUS_RETENTION_HOURS: '0' })).toThrow(/HELD_STATUS_RETENTION_HOURS/);
  });
});
