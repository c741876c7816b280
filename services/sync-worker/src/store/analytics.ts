import type { Executor } from '@switchboard/db';
import { type SQL, sql } from 'drizzle-orm';

export type GroupBy = 'day' | 'channel' | 'agent';

/** One group's figures; null where the group has nothing to average. */
export interface ReportRow {
  key: string;
  opened: number;
  closed: number;
  avgDurationMs: number | null;
  messagesPerConversation: number | null;
  respondedConversations: number;
  avgFirstResponseMs: number | null;
  avgResponseMs: number | null;
  responses: number;
}

type OpenedRow = {
  key: string;
  opened: string;
  messages: string;
  responded: string;
  first_ms: string | null;
  total_ms: string;
  responses: string;
};
type ClosedRow = { key: string; closed: string; duration_ms: string | null };

const tz = (tenantId: string) => sql`(select time_zone from tenants where id = ${tenantId})`;

/** The start of `at`'s day in the tenant's time zone. */
export const dayStart = (tenantId: string, at: SQL) => sql`date_trunc('day', ${at}, ${tz(tenantId)})`;
/** A day start as the reports key it: `YYYY-MM-DD` in the tenant's time zone. */
export const dayLabel = (tenantId: string, start: SQL) =>
  sql`to_char(${start} at time zone ${tz(tenantId)}, 'YYYY-MM-DD')`;
/** The day of `at` in the tenant's time zone, as `YYYY-MM-DD`: the key of every report by day. */
const dayOf = (tenantId: string, at: SQL) => dayLabel(tenantId, dayStart(tenantId, at));

/** The group key of a cohort row: its day in the tenant's zone, its channel or its agent. */
function keyOf(groupBy: GroupBy, tenantId: string, at: SQL, provider: SQL, agent: SQL): SQL {
  if (groupBy === 'day') return dayOf(tenantId, at);
  if (groupBy === 'channel') return provider;
  return sql`coalesce(${agent}, '(none)')`;
}

/**
 * Conversations opened in [from, to): their message counts and response times, from
 * `conversation_metrics` (kept by a trigger as each message is stored), one index range of
 * `(tenant_id, opened_at)`. By agent it joins the conversation for its current agent.
 */
async function openedCohort(db: Executor, tenantId: string, from: Date, to: Date, groupBy: GroupBy) {
  const key = keyOf(groupBy, tenantId, sql`m.opened_at`, sql`m.provider`, sql`c.agent_id`);
  const join = groupBy === 'agent' ? sql`join conversations c on c.id = m.conversation_id` : sql``;
  const res = await db.execute<OpenedRow>(sql`
    select ${key} as key, count(*) as opened, sum(m.inbound_count + m.outbound_count) as messages,
           count(m.first_response_ms) as responded, avg(m.first_response_ms) as first_ms,
           sum(m.response_ms_total) as total_ms, sum(m.responses) as responses
      from conversation_metrics m ${join}
     where m.tenant_id = ${tenantId} and m.opened_at >= ${from.toISOString()} and m.opened_at < ${to.toISOString()}
     group by 1`);
  return res.rows;
}

/** Conversations closed in [from, to), grouped by the day they closed, channel or agent, with their duration. */
async function closedCohort(db: Executor, tenantId: string, from: Date, to: Date, groupBy: GroupBy) {
  const key = keyOf(groupBy, tenantId, sql`c.closed_at`, sql`c.provider`, sql`c.agent_id`);
  const res = await db.execute<ClosedRow>(sql`
    select ${key} as key, count(*) as closed, avg(extract(epoch from c.closed_at - c.opened_at) * 1000) as duration_ms
      from conversations c
     where c.tenant_id = ${tenantId} and c.closed_at >= ${from.toISOString()} and c.closed_at < ${to.toISOString()}
     group by 1`);
  return res.rows;
}

export const num = (v: string | null | undefined) => (v === null || v === undefined ? null : Math.round(Number(v)));
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 100) / 100);

/**
 * Runs `fn` in a transaction of its own under the report's tenant. A report's two cohorts each get
 * one, so they run at once on two connections (and two cores): in one transaction they queued on
 * its one connection, and the report took their sum. Each is a consistent snapshot; the two may be
 * apart by what committed between them, which a report over days does not notice.
 */
export type InTenant = <T>(fn: (db: Executor) => Promise<T>) => Promise<T>;

/** The report: one row per group (sorted by key) and the totals over the range. */
export async function conversationReport(inTenant: InTenant, tenantId: string, from: Date, to: Date, groupBy: GroupBy) {
  const [opened, closed] = await Promise.all([
    inTenant((db) => openedCohort(db, tenantId, from, to, groupBy)),
    inTenant((db) => closedCohort(db, tenantId, from, to, groupBy)),
  ]);
  const acc = new Map<string, { o?: OpenedRow; c?: ClosedRow }>();
  for (const o of opened) acc.set(o.key, { ...acc.get(o.key), o });
  for (const c of closed) acc.set(c.key, { ...acc.get(c.key), c });
  const row = (key: string, o?: OpenedRow, c?: ClosedRow): ReportRow => {
    const n = Number(o?.opened ?? 0);
    const responses = Number(o?.responses ?? 0);
    return {
      key,
      opened: n,
      closed: Number(c?.closed ?? 0),
      avgDurationMs: num(c?.duration_ms),
      messagesPerConversation: ratio(Number(o?.messages ?? 0), n),
      respondedConversations: Number(o?.responded ?? 0),
      avgFirstResponseMs: num(o?.first_ms),
      avgResponseMs: responses === 0 ? null : Math.round(Number(o?.total_ms ?? 0) / responses),
      responses,
    };
  };
  const groups = [...acc.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => row(k, v.o, v.c));
  const sum = (f: (r: OpenedRow) => number) => opened.reduce((s, r) => s + f(r), 0);
  const openedTotal = sum((r) => Number(r.opened));
  const responded = sum((r) => Number(r.responded));
  const responses = sum((r) => Number(r.responses));
  const closedTotal = closed.reduce((s, r) => s + Number(r.closed), 0);
  const totals: ReportRow = {
    key: 'total',
    opened: openedTotal,
    closed: closedTotal,
    avgDurationMs:
      closedTotal === 0
        ? null
        : Math.round(closed.reduce((s, r) => s + Number(r.duration_ms) * Number(r.closed), 0) / closedTotal),
    messagesPerConversation: ratio(
      sum((r) => Number(r.messages)),
      openedTotal,
    ),
    respondedConversations: responded,
    avgFirstResponseMs:
      responded === 0 ? null : Math.round(sum((r) => Number(r.first_ms ?? 0) * Number(r.responded)) / responded),
    avgResponseMs: responses === 0 ? null : Math.round(sum((r) => Number(r.total_ms)) / responses),
    responses,
  };
  return { groups, totals };
}

/**
 * The conversation's first response time if `messageId` (a reply just stored, in this
 * transaction) is the reply that gave it: the metrics trigger has already counted it.
 */
export async function firstResponseBy(db: Executor, conversationId: string, messageId: string) {
  const res = await db.execute<{ ms: string }>(sql`
    select m.first_response_ms as ms from conversation_metrics m join messages msg on msg.id = ${messageId}
     where m.conversation_id = ${conversationId} and m.first_response_at = msg.received_at`);
  const r = res.rows[0];
  return r ? Number(r.ms) : null;
}
