import { randomUUID } from 'node:crypto';
import { createDb, devTenant, seedTenant } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  expireHeldDeliveryStatuses,
  holdDeliveryStatus,
  takeHeldDeliveryStatuses,
  takeHeldDeliveryStatusesOf,
} from './held-delivery-statuses.ts';

let database: TestDatabase;
let db: ReturnType<typeof createDb>;
let tenantId: string;
beforeEach(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 2, applicationName: 'held-statuses-test' });
  tenantId = (await seedTenant(db.db, devTenant)).tenantId;
});
afterEach(async () => {
  await db.pool.end();
  await database.drop();
});

const key = (providerMessageId: string, provider = 'whatsapp') => ({ tenantId, provider, providerMessageId });
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const hold = (
  k: ReturnType<typeof key>,
  status: 'sent' | 'delivered' | 'read' | 'failed',
  s: number,
  errors = null as null | Array<{ code: number }>,
) => holdDeliveryStatus(db.db, k, { status, at: at(s), errors, eventId: randomUUID() });

describe('held delivery statuses', () => {
  it('holds a repeated status once, adding only the errors it has not seen', async () => {
    await hold(key('m1'), 'failed', 1, [{ code: 131026 }]);
    await hold(key('m1'), 'failed', 2, [{ code: 131026 }, { code: 131047 }]);
    const held = await takeHeldDeliveryStatusesOf(db.db, key('m1'));
    expect(held).toEqual([{ status: 'failed', at: at(1), errors: [{ code: 131026 }, { code: 131047 }] }]);
  });

  it("takes each message's statuses apart, oldest first, and leaves other messages and providers held", async () => {
    await hold(key('m1'), 'delivered', 5);
    await hold(key('m1'), 'sent', 3);
    await hold(key('m2'), 'read', 4);
    await hold(key('m1', 'genesys'), 'sent', 1);
    const taken = await takeHeldDeliveryStatuses(db.db, 'whatsapp', [key('m1'), key('m3')]);
    expect(taken.get([tenantId, 'm1'])?.map((s) => s.status)).toEqual(['sent', 'delivered']);
    expect(taken.get([tenantId, 'm3'])).toBeUndefined();
    expect(taken.size).toBe(1);
    // Taken means removed: a second take finds nothing, the others are still there.
    expect(await takeHeldDeliveryStatusesOf(db.db, key('m1'))).toEqual([]);
    expect((await takeHeldDeliveryStatusesOf(db.db, key('m2'))).map((s) => s.status)).toEqual(['read']);
    expect((await takeHeldDeliveryStatusesOf(db.db, key('m1', 'genesys'))).map((s) => s.status)).toEqual(['sent']);
  });

  it('expires holds older than the cutoff, at most the limit, counted per provider', async () => {
    await hold(key('m1'), 'sent', 1);
    await hold(key('m2'), 'sent', 1);
    await hold(key('m3', 'genesys'), 'sent', 1);
    expect(await expireHeldDeliveryStatuses(db.db, new Date(Date.now() - 3_600_000), 10)).toEqual(new Map());
    const future = new Date(Date.now() + 3_600_000);
    const first = await expireHeldDeliveryStatuses(db.db, future, 2);
    const rest = await expireHeldDeliveryStatuses(db.db, future, 10);
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    expect(total(first)).toBe(2);
    expect(total(rest)).toBe(1);
    const byProvider = new Map<string, number>();
    for (const m of [first, rest]) for (const [p, n] of m) byProvider.set(p, (byProvider.get(p) ?? 0) + n);
    expect(byProvider).toEqual(
      new Map([
        ['whatsapp', 2],
        ['genesys', 1],
      ]),
    );
  });
});
