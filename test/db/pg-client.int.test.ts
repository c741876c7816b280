import { createDb, type Db, transaction } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let database: TestDatabase;
let db: Db;
beforeEach(async () => {
  database = await createTestDatabase();
  // One connection, so every statement below meets the same statement cache.
  db = createDb(database.url, { max: 1, applicationName: 'statement-cache-test' });
});
afterEach(async () => {
  await db.pool.end();
  await database.drop();
});

/** The statements prepared on the pool's one connection, by the text they were prepared from. */
const prepared = async () =>
  (
    await db.pool.query<{ name: string; statement: string; generic: number; custom: number }>(
      'select name, statement, generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements',
    )
  ).rows;

describe("the pools' client: one socket write per query", () => {
  it("sends a statement's parse, bind, describe, execute and sync in one write", async () => {
    const client = await db.pool.connect();
    try {
      // The socket's own write hooks (Writable's implementation side): one call is one syscall.
      const socket = client.connection.stream as unknown as {
        _write: (...a: unknown[]) => void;
        _writev: (...a: unknown[]) => void;
      };
      const writes: string[] = [];
      const [write, writev] = [socket._write, socket._writev];
      socket._write = (...a) => {
        writes.push('write');
        return write.apply(socket, a);
      };
      socket._writev = (...a) => {
        writes.push(`writev of ${(a[0] as unknown[]).length}`);
        return writev.apply(socket, a);
      };
      try {
        for (let n = 1; n <= 3; n++) {
          writes.length = 0;
          const { rows } = await client.query('select $1::int + 1 as m', [n]);
          expect(rows).toEqual([{ m: n + 1 }]);
          // Unnamed (parse, bind, describe, execute, sync), then named and parsed (bind … sync), then parsed before.
          expect(writes).toEqual([n === 3 ? 'writev of 4' : 'writev of 5']);
        }
      } finally {
        socket._write = write;
        socket._writev = writev;
      }
    } finally {
      client.release();
    }
  });
});

describe("the connections' statement cache", () => {
  it('prepares a parameterized statement from its second use, and Postgres then plans it once for all', async () => {
    const probe = (n: number) =>
      db.db.execute<{ n: number; at: string }>(sql`select ${n}::int as n, now() as at where ${n}::int > 0`);
    const first = await probe(1);
    expect(await prepared()).toEqual([]);
    const answers = [first, await probe(2)];
    for (let n = 3; n <= 12; n++) answers.push(await probe(n));
    // Results as drizzle gives them (its own type parsers: a timestamp stays text).
    expect(answers.map((r) => r.rows[0]?.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(typeof answers[11]?.rows[0]?.at).toBe('string');
    const [statement, ...others] = (await prepared()).filter((p) => p.statement.includes('as n, now() as at'));
    expect(others).toEqual([]);
    expect(statement?.name).toMatch(/^auto_[0-9a-f]{20}$/);
    // Eleven executions of the named statement: five custom plans, then the generic one reused.
    expect(statement?.custom).toBe(5);
    expect(statement?.generic).toBe(6);
  });

  it('names no statement without values: BEGIN, COMMIT, a message of several statements', async () => {
    for (let i = 0; i < 3; i++) {
      await transaction(db.pool, async (tx) => {
        await tx.execute(sql`select 1 as one`);
      });
      await db.pool.query("select 1; select set_config('test.x', 'y', false)");
    }
    expect(await prepared()).toEqual([]);
  });

  it('stops naming at its bound: a statement of ever new shapes cannot grow the server', async () => {
    // Drizzle's inArray makes one placeholder per element: a new text for every length.
    for (let n = 1; n <= 130; n++) {
      const values = Array.from({ length: n }, (_, i) => i);
      for (let use = 0; use < 2; use++) {
        const list = sql.join(
          values.map((v) => sql`${v}::int`),
          sql`, `,
        );
        const { rows } = await db.db.execute<{ n: number }>(
          sql`select count(*)::int as n from (values (0)) v(x) where x in (${list})`,
        );
        expect(rows[0]?.n).toBe(1);
      }
    }
    expect((await prepared()).length).toBe(100);
  });

  it('after a migration changes what a named statement returns, fails once and then runs unnamed', async () => {
    await db.pool.query('create table probe (a int)');
    await db.pool.query('insert into probe values (1)');
    const read = () => db.db.execute<Record<string, unknown>>(sql`select p.* from probe p where p.a = ${1}`);
    await read();
    expect((await read()).rows).toEqual([{ a: 1 }]);
    // A column added while the connection keeps the prepared statement (a rolling deploy's migration).
    await db.pool.query('alter table probe add column b int default 2');
    await expect(read()).rejects.toMatchObject({ cause: { code: '0A000' } });
    // The caller's retry (a redelivered batch) plans afresh and sees the new column.
    expect((await read()).rows).toEqual([{ a: 1, b: 2 }]);
    expect((await read()).rows).toEqual([{ a: 1, b: 2 }]);
  });

  it('a named statement that fails still runs again, and so does its connection', async () => {
    const divide = (n: number) => db.db.execute<{ q: number }>(sql`select 10 / ${n}::int as q`);
    await divide(5);
    await divide(2);
    await expect(divide(0)).rejects.toMatchObject({ cause: { code: '22012' } }); // division by zero
    expect((await divide(10)).rows[0]?.q).toBe(1);
  });
});
