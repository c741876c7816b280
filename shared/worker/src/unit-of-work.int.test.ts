import { createEvent } from '@switchboard/contracts';
import { createDb } from '@switchboard/db';
import { Counter, Registry } from '@switchboard/platform';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
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
const outboxRows = async (id: string) =>
  Number((await db.pool.query('select count(*) as n from outbox where event_id = $1', [id])).rows[0].n);
const inboxRows = async (id: string) =>
  Number((await db.pool.query('select count(*) as n from inbox where event_id = $1', [id])).rows[0].n);
const doneCount = async (m: ReturnType<typeof metricsOf>) => (await m.done.get()).values[0]?.value ?? 0;

describe('the unit of work', () => {
  it('appends what it recorded in its transaction, then counts and runs its hooks once committed', async () => {
    const metrics = metricsOf();
    const e = entry();
    const seen: string[] = [];
    const claimed = await unitOfWork({ pool: db.pool, metrics }, async (unit) => {
      const ids = await unit.claim('test', [e.event.id]);
      unit.record({
        outbox: [e],
        counts: [{ metric: 'done', labels: { kind: 'x' } }],
        afterCommit: [async () => void seen.push(`hook saw ${await outboxRows(e.event.id)} row`)],
      });
      expect(await doneCount(metrics)).toBe(0);
      return ids;
    });
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
      unitOfWork({ pool: db.pool, metrics }, async (unit) => {
        await unit.claim('test', [e.event.id]);
        unit.record({
          outbox: [e],
          counts: [{ metric: 'done', labels: { kind: 'x' } }],
          afterCommit: [
            async () => {
              hooked = true;
            },
          ],
        });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await inboxRows(e.event.id)).toBe(0);
    expect(await outboxRows(e.event.id)).toBe(0);
    expect(await doneCount(metrics)).toBe(0);
    expect(hooked).toBe(false);
  });

  it('answers a claim already made with an empty set, so a redelivery applies nothing', async () => {
    const metrics = metricsOf();
    const id = entry().event.id;
    await unitOfWork({ pool: db.pool, metrics }, (unit) => unit.claim('test', [id]));
    const again = await unitOfWork({ pool: db.pool, metrics }, (unit) => unit.claim('test', [id]));
    expect(again.size).toBe(0);
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
