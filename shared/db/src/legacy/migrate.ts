import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type pg from 'pg';
import { z } from 'zod';

/**
 * The legacy migration (seeds 000 and 002): conversations of the old 5-value model are imported
 * into Switchboard with the 3-value status, each with its first status-history row, and every
 * entity whose status has no history yet gets one. A ledger (`legacy_imports`) keeps each legacy
 * record exactly as read, which makes `apply` idempotent and resumable (it skips what the ledger
 * has) and `rollback` exact (it removes precisely what `apply` created, nothing else).
 */

export const LEGACY_STATUSES = ['open', 'assigned', 'waiting', 'resolved', 'closed'] as const;
export type LegacyStatus = (typeof LEGACY_STATUSES)[number];

/** Seed 000's mapping: assigned and waiting are agent work (active); resolved ended (closed). */
export const LEGACY_TO_STATUS: Readonly<Record<LegacyStatus, 'open' | 'active' | 'closed'>> = {
  open: 'open',
  assigned: 'active',
  waiting: 'active',
  resolved: 'closed',
  closed: 'closed',
};

/** One legacy record: the row of a legacy table, or one line of a JSON-lines file. */
export const LegacyRecord = z.object({
  legacy_id: z.string().min(1),
  tenant: z.string().min(1),
  provider: z.string().min(1),
  account_id: z.string().min(1),
  /** International form, any punctuation: `+1 631-555-0100`, `16315550100`. */
  customer_phone: z.string().min(1),
  customer_name: z.string().nullish(),
  status: z.string(),
  created_at: z.coerce.date(),
  updated_at: z.coerce.date(),
});
export type LegacyRecord = z.infer<typeof LegacyRecord>;

export const BACKFILL_SOURCE = 'backfill';

export interface Source {
  /** Ledger name: `table:<name>` or `file:<path>`. */
  name: string;
  /** A table (or temp table) holding the records, with the columns of `LegacyRecord`. */
  relation: string;
}

export const phoneE164 = (raw: string): string | null => {
  const digits = raw.replace(/[\s().-]/g, '').replace(/^\+/, '');
  return /^[1-9]\d{6,14}$/.test(digits) ? `+${digits}` : null;
};

const ident = (name: string) =>
  name
    .split('.')
    .map((p) => `"${p.replaceAll('"', '""')}"`)
    .join('.');

/** Loads a JSON-lines file into a session temp table; a line that does not parse stops with its number. */
export async function loadJsonLines(client: pg.ClientBase, path: string): Promise<Source> {
  const relation = 'legacy_jsonl_source';
  await client.query(`create temp table if not exists ${relation} (
      legacy_id text primary key, tenant text not null, provider text not null, account_id text not null,
      customer_phone text not null, customer_name text, status text not null,
      created_at timestamptz not null, updated_at timestamptz not null)`);
  await client.query(`truncate ${relation}`);
  let batch: LegacyRecord[] = [];
  let line = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await client.query(
      `insert into ${relation} select * from jsonb_to_recordset($1::jsonb) as r(
         legacy_id text, tenant text, provider text, account_id text, customer_phone text, customer_name text,
         status text, created_at timestamptz, updated_at timestamptz)`,
      [JSON.stringify(batch)],
    );
    batch = [];
  };
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })) {
    line += 1;
    if (text.trim() === '') continue;
    let parsed: z.ZodSafeParseResult<LegacyRecord>;
    try {
      parsed = LegacyRecord.safeParse(JSON.parse(text));
    } catch (err) {
      throw new Error(`${path}:${line}: not JSON: ${(err as Error).message}`);
    }
    if (!parsed.success) throw new Error(`${path}:${line}: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`);
    batch.push(parsed.data);
    if (batch.length >= 5_000) await flush();
  }
  await flush();
  return { name: `file:${path}`, relation };
}

export const tableSource = (table: string): Source => ({ name: `table:${table}`, relation: ident(table) });

async function inTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    const out = await fn();
    await client.query('commit');
    return out;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

export interface Progress {
  start(total: number): void;
  advance(n: number): void;
  stop(): void;
}
export const silentProgress: Progress = { start: () => undefined, advance: () => undefined, stop: () => undefined };

export interface ApplyResult {
  imported: number;
  problems: number;
  backfilled: number;
}

/** Counts legacy records per status, and what each maps to, without writing anything. */
export async function dryRun(client: pg.ClientBase, src: Source) {
  const res = await client.query<{ status: string; n: string; pending: string }>(
    `select l.status, count(*) as n,
            count(*) filter (where not exists (select 1 from legacy_imports i where i.source = $1 and i.legacy_id = l.legacy_id)) as pending
       from ${src.relation} l group by l.status order by l.status`,
    [src.name],
  );
  return res.rows.map((r) => ({
    status: r.status,
    mapsTo: LEGACY_TO_STATUS[r.status as LegacyStatus] ?? 'invalid',
    count: Number(r.n),
    pending: Number(r.pending),
  }));
}

/**
 * Imports what the ledger does not have yet, `batchSize` records per transaction (an interrupted
 * run resumes where it stopped), then backfills history for entities that have none.
 */
export async function apply(
  client: pg.ClientBase,
  src: Source,
  opts: { batchSize: number; progress?: Progress },
): Promise<ApplyResult> {
  const progress = opts.progress ?? silentProgress;
  const pending = await client.query<{ n: string }>(
    `select count(*) as n from ${src.relation} l
      where not exists (select 1 from legacy_imports i where i.source = $1 and i.legacy_id = l.legacy_id)`,
    [src.name],
  );
  progress.start(Number(pending.rows[0]?.n ?? 0));
  const out: ApplyResult = { imported: 0, problems: 0, backfilled: 0 };
  try {
    for (;;) {
      const done = await inTransaction(client, () => importBatch(client, src, opts.batchSize));
      if (done.read === 0) break;
      out.imported += done.imported;
      out.problems += done.read - done.imported;
      progress.advance(done.read);
    }
  } finally {
    progress.stop();
  }
  out.backfilled = await inTransaction(client, () => backfillHistory(client));
  return out;
}

async function importBatch(client: pg.ClientBase, src: Source, size: number) {
  const rows = (
    await client.query<Record<string, unknown>>(
      `select l.* from ${src.relation} l
        where not exists (select 1 from legacy_imports i where i.source = $1 and i.legacy_id = l.legacy_id)
        order by l.legacy_id limit $2`,
      [src.name, size],
    )
  ).rows;
  if (rows.length === 0) return { read: 0, imported: 0 };
  const records = rows.map((r) => ({ raw: r, rec: LegacyRecord.parse(r) }));

  const channels = await client.query<{
    slug: string;
    provider: string;
    account_id: string;
    id: string;
    tenant_id: string;
  }>(
    `select t.slug, c.provider, c.account_id, c.id, c.tenant_id
       from channels c join tenants t on t.id = c.tenant_id
      where (t.slug, c.provider, c.account_id) in (select * from unnest($1::text[], $2::text[], $3::text[]))`,
    [records.map((r) => r.rec.tenant), records.map((r) => r.rec.provider), records.map((r) => r.rec.account_id)],
  );
  const channelOf = new Map(channels.rows.map((c) => [`${c.slug}/${c.provider}/${c.account_id}`, c]));

  const ok: Array<{
    rec: LegacyRecord;
    raw: Record<string, unknown>;
    channelId: string;
    tenantId: string;
    phone: string;
  }> = [];
  const problems: Array<{ rec: LegacyRecord; raw: Record<string, unknown>; problem: string }> = [];
  for (const { rec, raw } of records) {
    const ch = channelOf.get(`${rec.tenant}/${rec.provider}/${rec.account_id}`);
    const phone = phoneE164(rec.customer_phone);
    if (!(LEGACY_STATUSES as readonly string[]).includes(rec.status))
      problems.push({ rec, raw, problem: `unknown_status: ${rec.status}` });
    else if (!ch)
      problems.push({ rec, raw, problem: `unknown_channel: ${rec.tenant}/${rec.provider}/${rec.account_id}` });
    else if (!phone) problems.push({ rec, raw, problem: `invalid_phone: ${rec.customer_phone}` });
    else ok.push({ rec, raw, channelId: ch.id, tenantId: ch.tenant_id, phone });
  }

  await client.query(`select set_config('switchboard.change_source', 'migration', true),
                             set_config('switchboard.changed_by', 'migrate:legacy', true),
                             set_config('switchboard.change_reason', 'legacy import', true),
                             set_config('switchboard.change_notes', '', true),
                             set_config('switchboard.cause_event_id', '', true)`);
  // Customers: existing ones are reused; the ones this batch creates are remembered for rollback.
  const created = await client.query<{ id: string; tenant_id: string; phone_e164: string }>(
    `insert into customers (tenant_id, phone_e164, whatsapp_id, name)
     select distinct on (t, ph) t, ph, ltrim(ph, '+'), nm
       from unnest($1::uuid[], $2::text[], $3::text[]) as v(t, ph, nm)
     on conflict (tenant_id, phone_e164) where phone_e164 is not null do nothing
     returning id, tenant_id, phone_e164`,
    [ok.map((o) => o.tenantId), ok.map((o) => o.phone), ok.map((o) => o.rec.customer_name ?? null)],
  );
  const createdIds = new Map(created.rows.map((c) => [`${c.tenant_id}/${c.phone_e164}`, c.id]));
  const inserted = await client.query<{ id: string; legacy_id: string }>(
    `insert into conversations (tenant_id, channel_id, customer_id, provider, status, opened_at, last_activity_at, closed_at, metadata)
     select v.t, v.ch, cu.id, v.pr, v.st, v.created, v.updated, case when v.st = 'closed' then v.updated end,
            jsonb_build_object('legacy', jsonb_build_object('source', $9::text, 'id', v.lid, 'status', v.lst))
       from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[],
                   $8::text[], $10::text[]) as v(t, ch, ph, pr, st, created, updated, lid, lst)
       join customers cu on cu.tenant_id = v.t and cu.phone_e164 = v.ph
     on conflict do nothing
     returning id, metadata->'legacy'->>'id' as legacy_id`,
    [
      ok.map((o) => o.tenantId),
      ok.map((o) => o.channelId),
      ok.map((o) => o.phone),
      ok.map((o) => o.rec.provider),
      ok.map((o) => LEGACY_TO_STATUS[o.rec.status as LegacyStatus]),
      ok.map((o) => o.rec.created_at.toISOString()),
      ok.map((o) => o.rec.updated_at.toISOString()),
      ok.map((o) => o.rec.legacy_id),
      src.name,
      ok.map((o) => o.rec.status),
    ],
  );
  const conversationOf = new Map(inserted.rows.map((r) => [r.legacy_id, r.id]));
  // The history row the trigger wrote: dated when the legacy record last changed, with its old value.
  await client.query(
    `update status_history h
        set changed_at = v.updated, notes = 'legacy status: ' || v.lst
       from unnest($1::uuid[], $2::timestamptz[], $3::text[]) as v(id, updated, lst)
      where h.entity_type = 'conversation' and h.entity_id = v.id`,
    [
      ok.filter((o) => conversationOf.has(o.rec.legacy_id)).map((o) => conversationOf.get(o.rec.legacy_id)),
      ok.filter((o) => conversationOf.has(o.rec.legacy_id)).map((o) => o.rec.updated_at.toISOString()),
      ok.filter((o) => conversationOf.has(o.rec.legacy_id)).map((o) => o.rec.status),
    ],
  );
  const ledger = [
    ...ok.map((o) => {
      const conversationId = conversationOf.get(o.rec.legacy_id) ?? null;
      const createdCustomer = createdIds.get(`${o.tenantId}/${o.phone}`) ?? null;
      // A created customer belongs to the first ledger row that uses it; rollback deletes it once unused.
      if (createdCustomer) createdIds.delete(`${o.tenantId}/${o.phone}`);
      return {
        legacy_id: o.rec.legacy_id,
        conversation_id: conversationId,
        created_customer_id: createdCustomer,
        legacy_status: o.rec.status,
        original: o.raw,
        problem: conversationId
          ? null
          : 'live_conversation_exists: the customer already has a live conversation on this channel',
      };
    }),
    ...problems.map((p) => ({
      legacy_id: p.rec.legacy_id,
      conversation_id: null,
      created_customer_id: null,
      legacy_status: p.rec.status,
      original: p.raw,
      problem: p.problem,
    })),
  ];
  await client.query(
    `insert into legacy_imports (source, legacy_id, conversation_id, created_customer_id, legacy_status, original, problem)
     select $1, r.legacy_id, r.conversation_id, r.created_customer_id, r.legacy_status, r.original, r.problem
       from jsonb_to_recordset($2::jsonb) as r(legacy_id text, conversation_id uuid, created_customer_id uuid,
                                                legacy_status text, original jsonb, problem text)`,
    [src.name, JSON.stringify(ledger)],
  );
  return { read: rows.length, imported: inserted.rows.length };
}

/** Seed 002: every conversation or ticket whose status has no history row gets one, from the status field. */
async function backfillHistory(client: pg.ClientBase): Promise<number> {
  const res = await client.query<{ entity_type: string; entity_id: string; status: string }>(`
    with missing as (
      select 'conversation' as entity_type, c.id, c.tenant_id, c.status, c.version, c.opened_at as at
        from conversations c
       where not exists (select 1 from status_history h where h.entity_type = 'conversation' and h.entity_id = c.id)
      union all
      select 'ticket', t.id, t.tenant_id, t.status, t.version, t.updated_at
        from tickets t
       where not exists (select 1 from status_history h where h.entity_type = 'ticket' and h.entity_id = t.id)
    )
    insert into status_history (tenant_id, entity_type, entity_id, status, is_active, changed_by, source, reason, notes, version, changed_at)
    select tenant_id, entity_type, id, status, true, 'migrate:legacy', 'migration', 'history backfill',
           'backfilled from the status field', version, at
      from missing
    returning entity_type, entity_id, status`);
  if (res.rows.length > 0) {
    await client.query(
      `insert into legacy_imports (source, legacy_id, conversation_id, legacy_status, original)
       select $1, r.entity_type || ':' || r.entity_id, null, r.status,
              jsonb_build_object('entity_type', r.entity_type, 'entity_id', r.entity_id, 'status', r.status)
         from jsonb_to_recordset($2::jsonb) as r(entity_type text, entity_id uuid, status text)
       on conflict do nothing`,
      [BACKFILL_SOURCE, JSON.stringify(res.rows)],
    );
  }
  return res.rows.length;
}

/**
 * Removes what `apply` created for this source (conversations, their history, the customers it
 * created that nothing else uses, the ledger) and the history rows it backfilled, in batches.
 * Refuses when an imported conversation has gained messages or tickets since: those are not the
 * migration's to delete.
 */
export async function rollback(
  client: pg.ClientBase,
  src: Source,
  opts: { batchSize: number; progress?: Progress },
): Promise<{ removed: number; backfillRemoved: number }> {
  const progress = opts.progress ?? silentProgress;
  const used = await client.query<{ n: string }>(
    `select count(*) as n from legacy_imports i
      where i.source = $1 and i.conversation_id is not null
        and (exists (select 1 from messages m where m.conversation_id = i.conversation_id)
             or exists (select 1 from tickets t where t.conversation_id = i.conversation_id))`,
    [src.name],
  );
  if (Number(used.rows[0]?.n) > 0) {
    throw new Error(
      `${used.rows[0]?.n} imported conversations have messages or tickets since the import; not rolling back`,
    );
  }
  const total = await client.query<{ n: string }>('select count(*) as n from legacy_imports where source = $1', [
    src.name,
  ]);
  progress.start(Number(total.rows[0]?.n ?? 0));
  let removed = 0;
  try {
    for (;;) {
      const n = await inTransaction(client, async () => {
        const batch = await client.query<{
          legacy_id: string;
          conversation_id: string | null;
          created_customer_id: string | null;
        }>(
          `delete from legacy_imports where (source, legacy_id) in (
             select source, legacy_id from legacy_imports where source = $1 order by legacy_id limit $2)
           returning legacy_id, conversation_id, created_customer_id`,
          [src.name, opts.batchSize],
        );
        const convs = batch.rows.flatMap((r) => (r.conversation_id ? [r.conversation_id] : []));
        const customers = batch.rows.flatMap((r) => (r.created_customer_id ? [r.created_customer_id] : []));
        await client.query(
          `delete from status_history where entity_type = 'conversation' and entity_id = any($1::uuid[])`,
          [convs],
        );
        await client.query('delete from conversations where id = any($1::uuid[])', [convs]);
        await client.query(
          `delete from customers cu where cu.id = any($1::uuid[])
              and not exists (select 1 from conversations c where c.customer_id = cu.id)`,
          [customers],
        );
        return batch.rows.length;
      });
      if (n === 0) break;
      removed += n;
      progress.advance(n);
    }
  } finally {
    progress.stop();
  }
  const backfillRemoved = await inTransaction(client, async () => {
    const rows = await client.query<{ legacy_id: string }>(
      'delete from legacy_imports where source = $1 returning legacy_id',
      [BACKFILL_SOURCE],
    );
    for (const type of ['conversation', 'ticket']) {
      const ids = rows.rows
        .filter((r) => r.legacy_id.startsWith(`${type}:`))
        .map((r) => r.legacy_id.slice(type.length + 1));
      await client.query(
        `delete from status_history where entity_type = $1 and entity_id = any($2::uuid[]) and source = 'migration' and reason = 'history backfill'`,
        [type, ids],
      );
    }
    return rows.rows.length;
  });
  return { removed, backfillRemoved };
}

export interface VerifyReport {
  source: Array<{ status: string; count: number }>;
  imported: Array<{ status: string; count: number }>;
  expected: Array<{ status: string; count: number }>;
  pending: number;
  problems: Array<{ check: string; count: number; sample: string[] }>;
}

/**
 * Counts per status before (legacy) and after (imported), and every inconsistency: records the
 * import refused, imported counts that differ from the mapping, entities without history, with
 * more than one active row, or whose active row disagrees with their status.
 */
export async function verify(client: pg.ClientBase, src: Source): Promise<VerifyReport> {
  const q = async (sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows;
  const source = await q(`select status, count(*)::int as count from ${src.relation} group by status order by status`);
  const imported = await q(
    `select c.status, count(*)::int as count from legacy_imports i join conversations c on c.id = i.conversation_id
      where i.source = $1 group by c.status order by c.status`,
    [src.name],
  );
  const expected = await q(
    `select case i.legacy_status when 'assigned' then 'active' when 'waiting' then 'active' when 'resolved' then 'closed'
                 else i.legacy_status end as status, count(*)::int as count
       from legacy_imports i where i.source = $1 and i.conversation_id is not null group by 1 order by 1`,
    [src.name],
  );
  const pending = await q(
    `select count(*)::int as n from ${src.relation} l
      where not exists (select 1 from legacy_imports i where i.source = $1 and i.legacy_id = l.legacy_id)`,
    [src.name],
  );
  const check = async (name: string, sql: string, params: unknown[] = []) => {
    const rows = (await q(sql, params)) as Array<{ id: string }>;
    return { check: name, count: rows.length, sample: rows.slice(0, 5).map((r) => r.id) };
  };
  const problems = [
    await check(
      'records the import refused',
      "select legacy_id || ': ' || problem as id from legacy_imports where source = $1 and problem is not null",
      [src.name],
    ),
    await check(
      'imported conversations whose status is not the mapped legacy status',
      `select i.legacy_id as id from legacy_imports i join conversations c on c.id = i.conversation_id
        where i.source = $1 and c.status <> case i.legacy_status when 'assigned' then 'active' when 'waiting' then 'active'
                                                 when 'resolved' then 'closed' else i.legacy_status end`,
      [src.name],
    ),
    await check(
      'entities without status history',
      `select 'conversation:' || c.id as id from conversations c
        where not exists (select 1 from status_history h where h.entity_type = 'conversation' and h.entity_id = c.id)
       union all
       select 'ticket:' || t.id from tickets t
        where not exists (select 1 from status_history h where h.entity_type = 'ticket' and h.entity_id = t.id)`,
    ),
    await check(
      'entities with more than one active status',
      `select entity_type || ':' || entity_id as id from status_history where is_active
        group by entity_type, entity_id having count(*) > 1`,
    ),
    await check(
      'active history that disagrees with the current status',
      `select 'conversation:' || c.id as id from conversations c
         join status_history h on h.entity_type = 'conversation' and h.entity_id = c.id and h.is_active
        where h.status <> c.status
       union all
       select 'ticket:' || t.id from tickets t
         join status_history h on h.entity_type = 'ticket' and h.entity_id = t.id and h.is_active
        where h.status <> t.status`,
    ),
  ];
  const counts = (rows: unknown[]) =>
    (rows as Array<{ status: string; count: number }>).map((r) => ({ status: r.status, count: r.count }));
  return {
    source: counts(source),
    imported: counts(imported),
    expected: counts(expected),
    pending: (pending[0] as { n: number } | undefined)?.n ?? 0,
    problems,
  };
}

export const hasProblems = (r: VerifyReport) =>
  r.problems.some((p) => p.count > 0) || JSON.stringify(r.imported) !== JSON.stringify(r.expected);
