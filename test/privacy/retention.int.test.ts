import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, seedTenant } from '@switchboard/db';
import { createLogger } from '@switchboard/platform';
import { archivePath, createMetrics, expireRetainedData, readArchive } from '@switchboard/sync-worker';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { switchboard } from '../cli/run.ts';

// Per-tenant retention on a controllable clock: 10,000 conversations seeded with bulk SQL, of
// which 300 are past the whole policy and 300 past the message period only. After the job exactly
// those parts are gone, they are in the archive, and `switchboard archive restore` puts the same
// rows into an empty database.

const DAY = 86_400_000;
const now = new Date('2026-06-01T12:00:00Z');

let database: TestDatabase;
let restored: TestDatabase | undefined;
let handle: ReturnType<typeof createDb>;
let archiveDir: string;
beforeEach(async () => {
  database = await createTestDatabase();
  handle = createDb(database.url, { max: 3, applicationName: 'retention-test' });
  archiveDir = await mkdtemp(join(tmpdir(), 'sb-archive-'));
});
afterEach(async () => {
  await handle.pool.end();
  await database.drop();
  await restored?.drop();
  await rm(archiveDir, { recursive: true, force: true });
});

/**
 * `count` closed WhatsApp conversations of tenant `slug`, one message each (every tenth with media
 * metadata, every fifth with a lead journey and an old status), closed `daysAgo` before `now`.
 */
async function seed(tenantId: string, channelId: string, from: number, count: number, daysAgo: (i: number) => number) {
  await handle.pool.query(
    `insert into customers (tenant_id, phone_e164, whatsapp_id, name)
     select $1, '+1555' || lpad(i::text, 7, '0'), '1555' || lpad(i::text, 7, '0'), 'Customer ' || i
       from generate_series($2::int, $2::int + $3::int - 1) i`,
    [tenantId, from, count],
  );
  await handle.pool.query(
    `with c as (
       select cu.id as customer_id, substr(cu.whatsapp_id, 5)::int as i from customers cu
        where cu.tenant_id = $1 and substr(cu.whatsapp_id, 5)::int between $3 and $3 + $4 - 1)
     insert into conversations (id, tenant_id, customer_id, channel_id, provider, status, opened_at, closed_at, last_activity_at)
     select md5('conv' || $1 || c.i)::uuid, $1, c.customer_id, $2, 'whatsapp', 'closed',
            $5::timestamptz - make_interval(days => d.days + 1), $5::timestamptz - make_interval(days => d.days),
            $5::timestamptz - make_interval(days => d.days)
       from c, lateral (select (($6::jsonb) ->> (c.i - $3))::int as days) d`,
    [tenantId, channelId, from, count, now, JSON.stringify(Array.from({ length: count }, (_, k) => daysAgo(from + k)))],
  );
  await handle.pool.query(
    `insert into messages (tenant_id, conversation_id, direction, provider, provider_message_id, type, body, received_at)
     select c.tenant_id, c.id, 'inbound', 'whatsapp', 'wamid.' || c.id, 'text', 'hello ' || c.id, c.opened_at
       from conversations c where c.tenant_id = $1`,
    [tenantId],
  );
  await handle.pool.query(
    `insert into message_media (message_id, tenant_id, provider, kind, provider_media_id, caption)
     select m.id, m.tenant_id, 'whatsapp', 'image', 'media-' || m.id, 'a photo'
       from messages m where m.tenant_id = $1 and get_byte(decode(md5(m.id::text), 'hex'), 0) % 10 = 0`,
    [tenantId],
  );
  await handle.pool.query(
    `with picked as (select c.* from conversations c where c.tenant_id = $1 and get_byte(decode(md5(c.id::text), 'hex'), 1) % 5 = 0),
     j as (insert into lead_journeys (conversation_id, tenant_id, customer_id) select id, tenant_id, customer_id from picked)
     insert into status_history (tenant_id, entity_type, entity_id, status, is_active, source, version, changed_at)
     select tenant_id, 'conversation', id, 'open', false, 'system', 0, opened_at from picked`,
    [tenantId],
  );
}

/** Every row of `table` matching `where`, as JSON, in a stable order. */
async function rows(pool: typeof handle.pool, table: string, where = 'true') {
  const r = await pool.query<{ j: Record<string, unknown> }>(`select to_jsonb(x) as j from ${table} x where ${where}`);
  return r.rows.map((x) => x.j).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

const expiredConvs = (t: string) =>
  `tenant_id = '${t}' and closed_at < '${new Date(now.getTime() - 730 * DAY).toISOString()}'`;
const messageExpiredConvs = (t: string) =>
  `tenant_id = '${t}' and closed_at < '${new Date(now.getTime() - 365 * DAY).toISOString()}'
   and closed_at >= '${new Date(now.getTime() - 730 * DAY).toISOString()}'`;

it('archives exactly what is past each tenant policy, deletes it, and restores it into an empty database', async () => {
  const a = await seedTenant(handle.db, {
    slug: 'acme',
    name: 'Acme',
    channels: [{ provider: 'whatsapp', accountId: 'pn-acme' }],
  });
  const b = await seedTenant(handle.db, {
    slug: 'bravo',
    name: 'Bravo',
    channels: [{ provider: 'whatsapp', accountId: 'pn-bravo' }],
  });
  // The CLI sets Bravo's policy while the data is seeded (its first run builds the command line).
  const cli = (...args: string[]) => switchboard(args, { DATABASE_URL: database.url });
  const tenYears = ['--message-days', '--media-days', '--email-body-days', '--status-history-days', '--lead-days'];
  const policies = Promise.all([
    cli(
      'retention',
      'set',
      '--tenant',
      'bravo',
      '--conversation-days',
      '3650',
      ...tenYears.flatMap((f) => [f, '3650']),
    ),
    cli('retention', 'set', '--tenant', 'acme', '--conversation-days', '30'),
  ]);
  // Acme: 300 closed 800+ days ago, 300 closed 400 days ago, 9,400 recent; Bravo keeps ten years.
  await seed(a.tenantId, a.channels.whatsapp as string, 0, 10_000, (i) =>
    i < 300 ? 800 + (i % 7) : i < 600 ? 400 : i % 300,
  );
  await seed(b.tenantId, b.channels.whatsapp as string, 20_000, 100, () => 900);
  const [set, incoherent] = await policies;
  expect(set).toMatchObject({ code: 0 });
  expect(incoherent).toMatchObject({
    code: 1,
    stderr: 'switchboard: messageDays (365) is longer than conversationDays (30)\n',
  });

  const A = a.tenantId;
  const inExpired = (col: string) => `${col} in (select id from conversations where ${expiredConvs(A)})`;
  const inMsgExpired = (col: string) => `${col} in (select id from conversations where ${messageExpiredConvs(A)})`;
  const inMediaExpired = (col: string) =>
    `${col} in (select id from conversations where tenant_id = '${A}' and closed_at < '${new Date(now.getTime() - 90 * DAY).toISOString()}')`;
  const before = {
    conversations: await rows(handle.pool, 'conversations', expiredConvs(A)),
    messages: await rows(
      handle.pool,
      'messages',
      `${inExpired('conversation_id')} or ${inMsgExpired('conversation_id')}`,
    ),
    // Media metadata goes after 90 days (the default), with the conversation still there.
    media: await rows(
      handle.pool,
      'message_media',
      `message_id in (select id from messages where ${inMediaExpired('conversation_id')})`,
    ),
    keptMedia: await rows(
      handle.pool,
      'message_media',
      `not (message_id in (select id from messages where ${inMediaExpired('conversation_id')}))`,
    ),
    journeys: await rows(
      handle.pool,
      'lead_journeys',
      `${inExpired('conversation_id')} or ${inMsgExpired('conversation_id')}`,
    ),
    history: await rows(
      handle.pool,
      'status_history',
      `entity_id in (select id from conversations where ${expiredConvs(A)})`,
    ),
    kept: await rows(handle.pool, 'conversations', `not (${expiredConvs(A)})`),
    keptMessages: (await handle.pool.query('select count(*)::int as n from messages')).rows[0].n - 600,
  };
  expect(before.conversations).toHaveLength(300);
  expect(before.messages).toHaveLength(600);
  expect(before.media.length).toBeGreaterThan(300);
  expect(before.keptMedia.length).toBeGreaterThan(100);
  expect(before.journeys.length).toBeGreaterThan(60);

  const metrics = createMetrics();
  // The job runs as the services' role, under Row-Level Security, as the sync-worker runs it.
  const app = createDb(database.appUrl, { max: 2, applicationName: 'retention-job' });
  const deps = { pool: app.pool, logger: createLogger('test', 'silent'), metrics, now: () => now };
  await expireRetainedData(deps, { archiveDir, batchSize: 1000 });

  // Exactly those are gone; everything else is as it was.
  expect(await rows(handle.pool, 'conversations', `not (${expiredConvs(A)})`)).toEqual(before.kept);
  expect(await rows(handle.pool, 'conversations', expiredConvs(A))).toEqual([]);
  expect((await handle.pool.query('select count(*)::int as n from messages')).rows[0].n).toBe(before.keptMessages);
  expect(await rows(handle.pool, 'messages', inMsgExpired('conversation_id'))).toEqual([]);
  expect(
    await rows(
      handle.pool,
      'status_history',
      `entity_id in (${before.conversations.map((c) => `'${c.id}'`).join(',')})`,
    ),
  ).toEqual([]);
  expect(await rows(handle.pool, 'message_media')).toEqual(before.keptMedia);
  expect((await metrics.retentionLag.get()).values[0]?.value).toBe(0);

  // The archive holds what left, once.
  const path = archivePath(archiveDir, A, now);
  const archived = new Map<string, Record<string, unknown>[]>();
  for await (const line of readArchive(path))
    if (line.op === 'row') archived.set(line.table, [...(archived.get(line.table) ?? []), line.row]);
  const sorted = (t: string) =>
    (archived.get(t) ?? []).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
  expect(sorted('conversations')).toEqual(before.conversations);
  expect(sorted('messages')).toEqual(before.messages);
  expect(sorted('message_media')).toEqual(before.media);
  expect(sorted('lead_journeys')).toEqual(before.journeys);
  expect(sorted('status_history')).toEqual(before.history);
  await expect(stat(archivePath(archiveDir, b.tenantId, now))).rejects.toThrow();

  // Nothing is due any more: a second run writes nothing.
  const size = (await stat(path)).size;
  await expireRetainedData(deps, { archiveDir, batchSize: 1000 });
  await app.pool.end();
  expect((await stat(path)).size).toBe(size);

  // The command restores the same rows into an empty database.
  restored = await createTestDatabase();
  const r = await switchboard(['archive', 'restore', path], { DATABASE_URL: restored.url });
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const target = createDb(restored.url, { max: 1 });
  try {
    // Every archived row is back as it was (the rows the archive carries as context come along).
    for (const [table, archivedRows] of archived) {
      const keys: Record<string, string> = {
        message_media: 'message_id',
        lead_journeys: 'conversation_id',
        conversation_metrics: 'conversation_id',
      };
      const key = keys[table] ?? 'id';
      const ids = archivedRows.map((x) => `'${x[key]}'`).join(',');
      expect(await rows(target.pool, table, `${key} in (${ids})`), table).toEqual(sorted(table));
    }
    expect(await rows(target.pool, 'status_history')).toEqual(before.history);
  } finally {
    await target.pool.end();
  }
});
