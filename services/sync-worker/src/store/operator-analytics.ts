import type { Executor } from '@switchboard/db';
import { type SQL, sql } from 'drizzle-orm';
import { dayLabel, dayStart, type InTenant, num } from './analytics.ts';

export type OperatorGroupBy = 'day' | 'channel' | 'operator';

/** One group's operator figures; null where the group has nothing to average. */
export interface OperatorReportRow {
  key: string;
  /** Assignments begun in the range (from the queue, pushed, or by a transfer). */
  assigned: number;
  /** Of those, the ones that came from the queue (a transfer has no queue wait). */
  queued: number;
  avgWaitMs: number | null;
  p90WaitMs: number | null;
  /** Assignments that ended in the range: the chats the operators handled. */
  handled: number;
  /** Of those, the ones the operator's reply ended. */
  replied: number;
  avgHandleMs: number | null;
  p50HandleMs: number | null;
  p90HandleMs: number | null;
}

type BegunRow = {
  key: string | null;
  total: boolean;
  assigned: string;
  queued: string;
  avg: string | null;
  p90: string | null;
};
type EndedRow = {
  key: string | null;
  total: boolean;
  handled: string;
  replied: string;
  avg: string | null;
  p50: string | null;
  p90: string | null;
};

/**
 * The group of an assignment `a` at `at` (its day's start in the tenant's zone, its
 * conversation's channel as the assignment recorded it, its operator) and the group's key as the report shows it. A day is
 * grouped by its start and named once per group: formatting each row's day as text first made the
 * 30-day report sort and compare 100,000 strings (a third slower on the benchmark store).
 */
function groupOf(groupBy: OperatorGroupBy, tenantId: string, at: SQL): { group: SQL; key: SQL } {
  if (groupBy === 'day') return { group: dayStart(tenantId, at), key: dayLabel(tenantId, sql`g`) };
  if (groupBy === 'channel') return { group: sql`coalesce(a.provider, '(none)')`, key: sql`g` };
  return { group: sql`a.operator_id`, key: sql`g` };
}

/**
 * Assignments begun in [from, to) per group and in total (a grouping set, so the total's p90 is
 * over every wait, not a blend of the groups'), one index range of `(tenant_id, assigned_at)`.
 */
async function begun(db: Executor, tenantId: string, from: Date, to: Date, groupBy: OperatorGroupBy) {
  const { group, key } = groupOf(groupBy, tenantId, sql`a.assigned_at`);
  const res = await db.execute<BegunRow>(sql`
    select ${key} as key, grouping(g) = 1 as total, count(*) as assigned, count(waited_ms) as queued,
           avg(waited_ms) as avg, percentile_cont(0.9) within group (order by waited_ms) as p90
      from (select ${group} as g, a.waited_ms
              from chat_assignments a
             where a.tenant_id = ${tenantId} and a.assigned_at >= ${from.toISOString()}
               and a.assigned_at < ${to.toISOString()}) x
     group by grouping sets ((g), ())`);
  return res.rows;
}

/** Assignments ended in [from, to) with how long each was held, one index range of `(tenant_id, ended_at)`. */
async function ended(db: Executor, tenantId: string, from: Date, to: Date, groupBy: OperatorGroupBy) {
  const { group, key } = groupOf(groupBy, tenantId, sql`a.ended_at`);
  const res = await db.execute<EndedRow>(sql`
    select ${key} as key, grouping(g) = 1 as total, count(*) as handled,
           count(*) filter (where end_reason = 'replied') as replied, avg(ms) as avg,
           percentile_cont(0.5) within group (order by ms) as p50,
           percentile_cont(0.9) within group (order by ms) as p90
      from (select ${group} as g, a.end_reason, extract(epoch from a.ended_at - a.assigned_at) * 1000 as ms
              from chat_assignments a
             where a.tenant_id = ${tenantId} and a.ended_at >= ${from.toISOString()}
               and a.ended_at < ${to.toISOString()}) x
     group by grouping sets ((g), ())`);
  return res.rows;
}

function rowOf(key: string, b?: BegunRow, e?: EndedRow): OperatorReportRow {
  return {
    key,
    assigned: Number(b?.assigned ?? 0),
    queued: Number(b?.queued ?? 0),
    avgWaitMs: num(b?.avg),
    p90WaitMs: num(b?.p90),
    handled: Number(e?.handled ?? 0),
    replied: Number(e?.replied ?? 0),
    avgHandleMs: num(e?.avg),
    p50HandleMs: num(e?.p50),
    p90HandleMs: num(e?.p90),
  };
}

/**
 * The operators' report (issue 18): per group (sorted by key) and in total, the assignments begun
 * in the range with the customers' queue wait, and those ended in it (chats handled) with the
 * handle time, from `chat_assignments`. A day counts an assignment on the day it began, and on the
 * day it ended, as the conversation report counts conversations.
 */
export async function operatorReport(
  inTenant: InTenant,
  tenantId: string,
  from: Date,
  to: Date,
  groupBy: OperatorGroupBy,
): Promise<{ groups: OperatorReportRow[]; totals: OperatorReportRow }> {
  const [b, e] = await Promise.all([
    inTenant((db) => begun(db, tenantId, from, to, groupBy)),
    inTenant((db) => ended(db, tenantId, from, to, groupBy)),
  ]);
  const acc = new Map<string, { b?: BegunRow; e?: EndedRow }>();
  for (const r of b) if (!r.total) acc.set(String(r.key), { ...acc.get(String(r.key)), b: r });
  for (const r of e) if (!r.total) acc.set(String(r.key), { ...acc.get(String(r.key)), e: r });
  const groups = [...acc.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => rowOf(k, v.b, v.e));
  return {
    groups,
    totals: rowOf(
      'total',
      b.find((r) => r.total),
      e.find((r) => r.total),
    ),
  };
}
