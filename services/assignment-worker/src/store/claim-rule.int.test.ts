import { randomUUID } from 'node:crypto';
import { createDb, devTenant, type Executor, seedTenant, transaction } from '@switchboard/db';
import { applyChatEvent, CHAT_STATES, type Chat } from '@switchboard/domain';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimIn } from './claim.ts';
import { pickOperatorFor } from './operators.ts';

/**
 * The assignment rule lives in shared/domain (`assign`: waiting, not barred by `barredBy`, the
 * chat's queue among the operator's skills); the claim's SQL (next-chat and auto-assign's fill)
 * and auto-assign's operator pick copy it into SQL for speed. This feeds random chats and one
 * operator to both, the SQL against a real database, and requires that they agree: the SQL
 * assigns exactly the chats the domain allows. Times come from a few seconds, so equal times
 * (a reply as new as the customer's message) come up often.
 */
let database: TestDatabase;
let db: ReturnType<typeof createDb>;
let tenantId: string;
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 2, applicationName: 'claim-rule-test' });
  tenantId = (await seedTenant(db.db, devTenant)).tenantId;
});
afterAll(async () => {
  await db.pool.end();
  await database.drop();
});

const OPERATOR = 'op-a';
const base = Date.parse('2026-01-01T00:00:00Z');
const time = fc.option(fc.integer({ min: 0, max: 3 }).map((s) => new Date(base + s * 1000)));
const someone = fc.constantFrom(OPERATOR, 'op-b');
const chat: fc.Arbitrary<Chat> = fc
  .record({
    state: fc.constantFrom(...CHAT_STATES),
    lastOperatorId: fc.option(someone),
    operatorRepliedAt: time,
    lastCustomerMessageAt: time,
    idleOperatorId: fc.option(someone),
    queue: fc.option(fc.constantFrom('billing', 'sales')),
  })
  .map((c) => ({
    ...c,
    assigneeId: c.state === 'assigned' ? 'op-b' : null,
    waitingSince: c.state === 'waiting_assignment' ? new Date(base) : null,
    completedAt: null,
    closed: false,
    flaggedAt: null,
  }));
const skills = fc.subarray(['billing', 'sales']);

/** The domain's answer: may `OPERATOR` with `skills` take the chat? */
const domainAllows = (c: Chat, s: string[]) =>
  applyChatEvent(c, { kind: 'assign', operatorId: OPERATOR, skills: s, at: new Date(base + 10_000) }).ok;

const ts = (d: Date | null) => sql`${d?.toISOString() ?? null}::timestamptz`;

async function insertCase(tx: Executor, c: Chat, s: string[]): Promise<string> {
  const id = randomUUID();
  await tx.execute(sql`
    insert into operators (tenant_id, id, status, capacity, skills) values (${tenantId}, ${OPERATOR}, 'online', 3,
      ${sql.param(s)}::text[])`);
  await tx.execute(sql`
    insert into chats (id, tenant_id, state, assignee_id, last_operator_id, operator_replied_at,
                       last_customer_message_at, waiting_since, idle_operator_id, queue)
    values (${id}, ${tenantId}, ${c.state}, ${c.assigneeId}, ${c.lastOperatorId}, ${ts(c.operatorRepliedAt)},
            ${ts(c.lastCustomerMessageAt)}, ${ts(c.waitingSince)}, ${c.idleOperatorId}, ${c.queue})`);
  return id;
}

class RolledBack extends Error {}

/** Runs `fn` on the case's rows in a transaction that is always rolled back, so cases never meet. */
async function onCase<T>(c: Chat, s: string[], fn: (tx: Executor, chatId: string) => Promise<T>): Promise<T> {
  let out: T | undefined;
  await transaction(db.pool, async (tx) => {
    out = await fn(tx, await insertCase(tx, c, s));
    throw new RolledBack();
  }).catch((err: unknown) => {
    if (!(err instanceof RolledBack)) throw err;
  });
  return out as T;
}

describe('the assignment rule in SQL', () => {
  it('claims a chat (next-chat and auto-assign fill) exactly when the domain lets the operator take it', async () => {
    await fc.assert(
      fc.asyncProperty(chat, skills, fc.constantFrom('pull', 'auto'), async (c, s, mode) => {
        const claimed = await onCase(c, s, async (tx) => {
          const q = { tenantId, operatorId: OPERATOR, mode, at: new Date(base + 10_000).toISOString(), exclude: [] };
          return (await claimIn(tx, mode === 'auto' ? { ...q, idleMinutes: 10 } : q))?.chat_id ?? null;
        });
        expect(claimed !== null).toBe(domainAllows(c, s));
      }),
      { numRuns: 200 },
    );
  });

  it("picks the operator for a waiting chat (auto-assign's push) exactly when the domain allows it", async () => {
    await fc.assert(
      fc.asyncProperty(
        chat.filter((c) => c.state === 'waiting_assignment'),
        skills,
        async (c, s) => {
          const picked = await onCase(c, s, async (tx, chatId) => pickOperatorFor(tx, tenantId, chatId, undefined));
          expect(picked?.id === OPERATOR).toBe(domainAllows(c, s));
        },
      ),
      { numRuns: 200 },
    );
  });
});
