import { randomUUID } from 'node:crypto';
import { ChatAssigned } from '@switchboard/contracts';
import { createDb, devTenant, seedTenant } from '@switchboard/db';
import { createLogger } from '@switchboard/platform';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackground } from '../background.ts';
import type { Deps } from '../deps.ts';
import { createMetrics } from '../metrics.ts';
import { type ClaimQuery, claimInTenant } from '../store/claim.ts';
import { assignedEvent, claimedFrom, nextChat } from './claim.ts';

/**
 * next-chat's claim appends its `chat.assigned` in the claim's own statement: the event is built
 * ahead by the contracts' code and the statement writes in what only it knows (the chat, the
 * assignment, the wait). The outbox row must be exactly the event the contracts' code builds from
 * the statement's answer, so the SQL cannot drift from the contract.
 */
let database: TestDatabase;
let db: ReturnType<typeof createDb>;
let tenantId: string;
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 2, applicationName: 'claim-event-test' });
  tenantId = (await seedTenant(db.db, devTenant)).tenantId;
});
afterAll(async () => {
  await db.pool.end();
  await database.drop();
});

const named = { names: { inbound: 'test.inbound', events: 'test.events', dlx: 'test.dlx', parked: 'test.parked' } };

describe("next-chat's claim statement", () => {
  it('appends the chat.assigned the contracts build from its answer, in the same statement', async () => {
    const chatId = randomUUID();
    await db.pool.query(`insert into operators (tenant_id, id, status, capacity) values ($1, 'op-a', 'online', 2)`, [
      tenantId,
    ]);
    await db.pool.query(
      `insert into chats (id, tenant_id, state, waiting_since) values ($1, $2, 'waiting_assignment', $3)`,
      [chatId, tenantId, '2026-01-01T00:00:00.000Z'],
    );
    const q: ClaimQuery = { tenantId, operatorId: 'op-a', mode: 'pull', at: '2026-01-01T00:00:02.345Z', exclude: [] };
    const eventId = randomUUID();
    const ahead = assignedEvent(named, q, { chatId: randomUUID(), assignmentId: 1, waitedMs: 0 }, eventId);

    const row = await claimInTenant(q, db.pool, ahead);

    const expected = claimedFrom(named, row, q, eventId)?.outbox[0];
    expect(expected?.event.data).toEqual(ChatAssigned.parse(expected?.event.data));
    expect(expected?.event).toMatchObject({ id: eventId, subject: chatId, data: { chatId, waitedMs: 2345 } });
    const { rows } = await db.pool.query('select * from outbox where event_id = $1', [eventId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      tenant_id: tenantId,
      aggregate_id: chatId,
      exchange: 'test.events',
      routing_key: 'chat.assigned',
    });
    expect(rows[0].envelope).toEqual(expected?.event);
  });

  it('appends nothing when it claims nothing', async () => {
    const q: ClaimQuery = { tenantId, operatorId: 'op-none', mode: 'pull', at: '2026-01-01T00:00:05Z', exclude: [] };
    const eventId = randomUUID();
    const ahead = assignedEvent(named, q, { chatId: randomUUID(), assignmentId: 1, waitedMs: 0 }, eventId);
    const row = await claimInTenant(q, db.pool, ahead);
    expect(row?.chat_id).toBeNull();
    const { rows } = await db.pool.query('select 1 from outbox where event_id = $1', [eventId]);
    expect(rows).toHaveLength(0);
  });
});

describe('next-chat under more callers than connections', () => {
  it('answers every caller: a claim that found nothing says why from the row it locked', async () => {
    // Two connections, eight operators calling at once, three chats: five find nothing and say
    // why. Asking on a second connection while holding the first would leave them all waiting.
    const small = createDb(database.url, { max: 2, applicationName: 'claim-pool-test' });
    const logger = createLogger('test', 'silent');
    const deps: Deps = {
      db: small.db,
      pool: small.pool,
      names: named.names,
      metrics: createMetrics(),
      logger,
      now: () => new Date(),
      timers: { schedule: async () => undefined },
      background: createBackground(logger),
      resolveChannel: async () => null,
    };
    const operators = Array.from({ length: 8 }, (_, i) => `op-pool-${i}`);
    try {
      await db.pool.query(
        `insert into operators (tenant_id, id, status, capacity) select $1, unnest($2::text[]), 'online', 1`,
        [tenantId, operators],
      );
      await db.pool.query(
        `insert into chats (id, tenant_id, state, waiting_since)
         select gen_random_uuid(), $1, 'waiting_assignment', now() from generate_series(1, 3)`,
        [tenantId],
      );
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('next-chat callers waited on each other')), 10_000);
      });
      const answers = await Promise.race([
        Promise.all(operators.map((op) => nextChat(deps, tenantId, op))),
        stuck,
      ]).finally(() => clearTimeout(timer));
      const outcomes = answers.map((a) => a.outcome).sort();
      expect(outcomes).toEqual([...Array(3).fill('assigned'), ...Array(5).fill('none_waiting')].sort());
      await deps.background.drain();
    } finally {
      await small.pool.end();
    }
  });
});
