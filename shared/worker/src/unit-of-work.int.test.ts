import { createEvent } from '@switchboard/contracts';
import { createDb } from '@switchboard/db';
import { Counter, Registry } from '@switchboard/platform';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { transactionMemo, unitOfWork } from './unit-of-work.ts';

let database: TestDatabase;
let db: ReturnType<typeof createDb>;
beforeEach(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 2, applicationName: 'unit-of-work-test' });
});
afterEach(async () => {
  await db.pool.end();
  await database.drop();
});

const metricsOf = () => ({
  done: new Counter({ name: 'done_total', help: 'test', labelNames: ['kind'] as const, registers: [new Registry()] }),
});
const entry = () => ({
  exchange: 'test.events',
  routingKey: 'test.happened',
  event: createEvent({ source: '/test', type: 'switchboard.test.happened.v1', data: {} }),
});
/** What a unit of work records in the rollback tests: one event, one count, one after-commit hook. */
const eventCountAndHook = (e: ReturnType<typeof entry>, hook: () => void) => ({
  outbox: [e],
  counts: [{ metric: 'done' as const, labels: { kind: 'x' } }],
  afterCommit: [async () => hook()],
});
const outboxRows = async (id: string) =>
  Number((await db.pool.query('select count(*) as n from outbox where event_id = $1', [id])).rows[0].n);
const inboxRows = async (id: string) =>
  Number((await db.pool.query('select count(*) as n from inbox where event_id = $1', [id])).rows[0].n);
const doneCount = async (m: ReturnType<typeof metricsOf>) => (await m.done.get()).values[0]?.value ?? 0;

/** The text of every query the one connection of `pool` is sent, until `stop()`. */
async function recordQueries(pool: pg.Pool): Promise<{ sent: string[]; stop: () => void }> {
  const sent: string[] = [];
  const client = await pool.connect();
  const query = client.query.bind(client);
  client.query = ((...args: Parameters<typeof query>) => {
    sent.push(typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string }).text));
    return query(...args);
  }) as typeof client.query;
  client.release();
  return {
    sent,
    stop: () => {
      client.query = query;
    },
  };
}

describe('the unit of work', () => {
  it('appends what it recorded in its transaction, then counts and runs its hooks once committed', async () => {
    const metrics = metricsOf();
    const e = entry();
    const seen: string[] = [];
    const claimed = await unitOfWork(
      { pool: db.pool, metrics },
      async (unit) => {
        unit.record({
          outbox: [e],
          counts: [{ metric: 'done', labels: { kind: 'x' } }],
          afterCommit: [async () => void seen.push(`hook saw ${await outboxRows(e.event.id)} row`)],
        });
        expect(await doneCount(metrics)).toBe(0);
        return unit.claimed;
      },
      { claim: { consumer: 'test', eventIds: [e.event.id] } },
    );
    expect(claimed.has(e.event.id)).toBe(true);
    expect(await outboxRows(e.event.id)).toBe(1);
    expect(await doneCount(metrics)).toBe(1);
    expect(seen).toEqual(['hook saw 1 row']);
  });

  it('keeps nothing of a rolled-back transaction: no claim, no event, no count, no hook', async () => {
    const metrics = metricsOf();
    const e = entry();
    let hooked = false;
    await expect(
      unitOfWork(
        { pool: db.pool, metrics },
        async (unit) => {
          unit.record(
            eventCountAndHook(e, () => {
              hooked = true;
            }),
          );
          throw new Error('boom');
        },
        { claim: { consumer: 'test', eventIds: [e.event.id] } },
      ),
    ).rejects.toThrow('boom');
    expect(await inboxRows(e.event.id)).toBe(0);
    expect(await outboxRows(e.event.id)).toBe(0);
    expect(await doneCount(metrics)).toBe(0);
    expect(hooked).toBe(false);
  });

  it('answers a claim already made with an empty set, so a redelivery applies nothing', async () => {
    const metrics = metricsOf();
    const id = entry().event.id;
    const claim = { consumer: 'test', eventIds: [id, id] };
    const first = await unitOfWork({ pool: db.pool, metrics }, async (unit) => unit.claimed, { claim });
    const again = await unitOfWork({ pool: db.pool, metrics }, async (unit) => unit.claimed, { claim });
    expect([...first]).toEqual([id]);
    expect(again.size).toBe(0);
  });

  it('sends the claim with BEGIN and the outbox append and its last read with COMMIT: two round trips for the three', async () => {
    const metrics = metricsOf();
    const e = entry();
    const one = createDb(database.url, { max: 1, applicationName: 'unit-of-work-trips' });
    const reads: unknown[] = [];
    const deps = {
      pool: one.pool,
      metrics,
      beforeCommit: {
        sql:
          "select current_setting('test.last', true) as last, (select count(*)::int from outbox where event_id = '" +
          `${e.event.id}') as appended`,
        afterCommit: (rows: Record<string, unknown>[]) => {
          reads.push(rows[0]);
          return async () => void reads.push(`after commit: ${await outboxRows(e.event.id)}`);
        },
      },
    };
    try {
      // A warm connection: the claim and the append are prepared on it once, not per unit.
      await unitOfWork(deps, async (unit) => unit.record({ outbox: [entry()] }), {
        claim: { consumer: 'warm', eventIds: [entry().event.id] },
      });
      reads.length = 0;
      const { sent, stop } = await recordQueries(one.pool);
      const claimed = await unitOfWork(
        deps,
        async (unit) => {
          await unit.tx.execute(sql`select set_config('test.last', 'set in the body', true)`);
          unit.record({ outbox: [e] });
          return unit.claimed;
        },
        { claim: { consumer: 'test', eventIds: [e.event.id] } },
      );
      stop();
      expect(claimed).toEqual(new Set([e.event.id]));
      // BEGIN + claim, the body's one statement, append + read + COMMIT.
      expect(sent).toHaveLength(3);
      expect(sent[0]).toMatch(/^begin; execute inbox_claim_[0-9a-f]{16}\('test', '\{"[0-9a-f-]{36}"\}'\)$/);
      expect(sent[2]).toMatch(/^execute outbox_append_[0-9a-f]{16}\('.*'\); select current_setting.*; commit$/s);
      // The read ran after the append, inside the transaction; the hook after the commit.
      expect(reads).toEqual([{ last: 'set in the body', appended: 1 }, 'after commit: 1']);
      expect(await inboxRows(e.event.id)).toBe(1);
    } finally {
      await one.pool.end();
    }
  });

  it("sends a large outbox append on its own, its JSON bound rather than a literal in COMMIT's message", async () => {
    const one = createDb(database.url, { max: 1, applicationName: 'unit-of-work-large' });
    const note = "it's \\ big ".repeat(40);
    const big = Array.from({ length: 40 }, () => ({
      ...entry(),
      event: createEvent({ source: '/test', type: 'switchboard.test.happened.v1', data: { note } }),
    }));
    try {
      const { sent, stop } = await recordQueries(one.pool);
      await unitOfWork({ pool: one.pool, metrics: metricsOf() }, async (unit) => unit.record({ outbox: big }));
      stop();
      expect(sent).toHaveLength(3);
      expect(sent[1]).toMatch(/^insert into outbox/);
      expect(sent[2]).toBe('commit');
      const stored = await db.pool.query<{ note: string }>(
        "select envelope->'data'->>'note' as note from outbox where event_id = any($1::uuid[])",
        [big.map((e) => e.event.id)],
      );
      expect(stored.rows.map((r) => r.note)).toEqual(big.map(() => note));
    } finally {
      await one.pool.end();
    }
  });

  it("rolls back the claim and the body when the outbox append fails in COMMIT's round trip", async () => {
    const metrics = metricsOf();
    const e = entry();
    await unitOfWork({ pool: db.pool, metrics }, async (unit) => unit.record({ outbox: [e] }));
    const claim = { consumer: 'test', eventIds: [entry().event.id] };
    let hooked = false;
    // The same event id again: the append violates the outbox's unique key, after the body ran.
    await expect(
      unitOfWork(
        { pool: db.pool, metrics },
        async (unit) => {
          await unit.tx.execute(sql`insert into inbox (consumer, event_id) values ('body', ${e.event.id})`);
          unit.record(
            eventCountAndHook(e, () => {
              hooked = true;
            }),
          );
        },
        { claim },
      ),
    ).rejects.toThrow(/outbox_event_id/);
    expect(await inboxRows(claim.eventIds[0] as string)).toBe(0);
    expect(await inboxRows(e.event.id)).toBe(0);
    expect(await outboxRows(e.event.id)).toBe(1);
    expect(await doneCount(metrics)).toBe(0);
    expect(hooked).toBe(false);
    // The pool's connections are clean: the next unit of work commits.
    const next = await unitOfWork({ pool: db.pool, metrics }, async (unit) => unit.claimed, { claim });
    expect(next.size).toBe(1);
  });

  it('a transaction memo lasts one unit of work: the next on the same connection starts without it', async () => {
    const one = createDb(database.url, { max: 1, applicationName: 'unit-of-work-memo' });
    const memo = transactionMemo<string>();
    const deps = { pool: one.pool, metrics: metricsOf() };
    try {
      const executors = new Set<unknown>();
      const seen: Array<string | undefined> = [];
      await expect(
        unitOfWork(deps, async (unit) => {
          executors.add(unit.tx);
          memo.set(unit.tx, 'rolled back');
          throw new Error('fails after filling its memo');
        }),
      ).rejects.toThrow('fails after filling its memo');
      for (const fill of ['committed', undefined]) {
        await unitOfWork(deps, async (unit) => {
          executors.add(unit.tx);
          seen.push(memo.get(unit.tx));
          if (fill) memo.set(unit.tx, fill);
        });
      }
      // One connection, one executor for all three: only the unit of work tells them apart.
      expect(executors.size).toBe(1);
      expect(seen).toEqual([undefined, undefined]);
    } finally {
      await one.pool.end();
    }
  });
});
