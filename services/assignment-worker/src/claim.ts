import { createEvent, domainEventType } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import type { OperatorStatus } from '@switchboard/domain';
import { recordCounts } from '@switchboard/platform';
import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { type Applied, nothing } from './applied.ts';
import { afterCommit } from './commit.ts';
import { DEFAULT_SETTINGS, type Deps, SOURCE } from './deps.ts';
import type { Count } from './metrics.ts';

export type NextChat =
  | { outcome: 'assigned'; chatId: string; assignmentId: number }
  | { outcome: 'none_waiting' | 'at_capacity' | 'not_online' | 'unknown_operator' };

/**
 * The domain's `barredBy` over the chats row `c` for `operator`: the same-operator rule (it
 * answered last and the customer has not written since) and the idle bar.
 */
export const lastRepliedBy = (c: SQL, operator: SQL) => sql`(${c}.last_operator_id is not distinct from ${operator}
  and ${c}.operator_replied_at is not null
  and (${c}.last_customer_message_at is null or ${c}.operator_replied_at >= ${c}.last_customer_message_at))`;
export const idleFrom = (c: SQL, operator: SQL) => sql`(${c}.idle_operator_id is not distinct from ${operator})`;

/** What one claim made: the chat, its assignment, and what to do once it committed. */
interface Claimed {
  chatId: string;
  assignmentId: number;
  applied: Applied;
}

type ClaimRow = {
  chat_id: string | null;
  assignment_id: string | null;
  waiting_since: Date | string | null;
  idle_minutes: number;
  held_last?: boolean;
  held_idle?: boolean;
};

/**
 * `POST /operators/:id/next-chat`: the oldest waiting chat this operator may take, claimed in one
 * statement (its own transaction): the operator's row lock serializes its claims and, read
 * through that lock, its load is current, so capacity holds; `skip locked` lets 200 operators
 * claim at once without two getting one chat or waiting on each other. The statement is a named
 * prepared statement on the pool (planned once per connection): this is the hot path.
 */
export async function nextChat(deps: Deps, tenantId: string, operatorId: string): Promise<NextChat> {
  const at = deps.now().toISOString();
  const claim = claimStatement(deps, { tenantId, operatorId, mode: 'pull', at, exclude: [] });
  const row = (await deps.pool.query<ClaimRow>({ name: 'assignment-next-chat', ...pgQuery(claim) })).rows[0];
  const claimed = claimedFrom(row, { tenantId, operatorId, mode: 'pull', at });
  const result: NextChat = claimed
    ? { outcome: 'assigned', chatId: claimed.chatId, assignmentId: claimed.assignmentId }
    : { outcome: await whyNoClaim(deps.db, tenantId, operatorId) };
  const counts: Count[] = [{ metric: 'assignments', labels: { mode: 'pull', outcome: result.outcome } }];
  if (row?.held_last) counts.push({ metric: 'sameOperatorExcluded', labels: { rule: 'last_replied' } });
  if (row?.held_idle) counts.push({ metric: 'sameOperatorExcluded', labels: { rule: 'idle' } });
  recordCounts(deps.metrics, counts);
  // The operator has the chat once the claim commits; its idle check is scheduled meanwhile,
  // tracked so that shutdown waits for it.
  if (claimed) deps.background.run('schedule idle check', afterCommit(deps, [claimed.applied]));
  return result;
}

/**
 * Auto-assign's claim for `operatorId`, in the caller's transaction `ex` (see `claimStatement`),
 * never with a chat in `exclude` (the one it just released). `idleMinutes`: the tenant's, as the
 * caller read them for the transaction. Null: nothing it may take waits.
 */
export async function claimFor(
  ex: Executor,
  deps: Deps,
  tenantId: string,
  operatorId: string,
  opts: { exclude?: string[]; idleMinutes: number },
): Promise<Claimed | null> {
  const at = deps.now().toISOString();
  const claim = claimStatement(deps, {
    tenantId,
    operatorId,
    mode: 'auto',
    at,
    exclude: opts.exclude ?? [],
    idleMinutes: opts.idleMinutes,
  });
  const r = await ex.execute<ClaimRow>(claim);
  return claimedFrom(r.rows[0], { tenantId, operatorId, mode: 'auto', at });
}

function claimedFrom(
  row: ClaimRow | undefined,
  q: { tenantId: string; operatorId: string; mode: 'pull' | 'auto'; at: string },
): Claimed | null {
  if (!row?.chat_id) return null;
  const { tenantId, operatorId, at } = q;
  const assignmentId = Number(row.assignment_id);
  const waitingSince = row.waiting_since === null ? Date.parse(at) : new Date(row.waiting_since).getTime();
  const applied = nothing(
    { id: row.chat_id, tenantId },
    {
      effects: { assigned: { operatorId } },
      idle: [{ tenantId, chatId: row.chat_id, assignmentId, delayMs: row.idle_minutes * 60_000 }],
      counts: [
        { metric: 'waitTime', labels: { mode: q.mode }, value: Math.max(0, Date.parse(at) - waitingSince) / 1000 },
      ],
    },
  );
  return { chatId: row.chat_id, assignmentId, applied };
}

/**
 * One claim as one statement, so it costs one round trip: lock the operator if it is online and
 * below capacity, pick the oldest waiting chat it may take (`skip locked`), open the assignment,
 * assign the chat (its trigger counts the operator's load) and append `chat.assigned` to the
 * outbox. The pick mirrors the domain's `assign`: waiting, the operator's queue, not barred.
 * In pull mode it also tells whether a barred chat would otherwise have been this operator's
 * (the exclusions metric); auto mode has no use for that and skips the two subqueries.
 */
function claimStatement(
  deps: Pick<Deps, 'names'>,
  q: {
    tenantId: string;
    operatorId: string;
    mode: 'pull' | 'auto';
    at: string;
    exclude: string[];
    /** Known to the caller (auto-assign read the settings), or read by the statement (next-chat's one round trip). */
    idleMinutes?: number;
  },
): SQL {
  const { tenantId, at } = q;
  const { data: _, ...envelope } = createEvent({
    source: SOURCE,
    type: domainEventType('chat.assigned'),
    tenantid: tenantId,
    time: new Date(at),
    data: null,
  });
  const op = sql`${q.operatorId}::text`;
  const fits = (c: SQL) => sql`(${c}.queue is null or ${c}.queue = any((select skills from op)::text[]))`;
  const excluded = q.exclude.length > 0 ? sql`and c.id <> all(${sql.param(q.exclude)}::uuid[])` : sql``;
  const before = (b: SQL) =>
    sql`(claimed.id is null or (${b}.waiting_since, ${b}.id) < (claimed.waiting_since, claimed.id))`;
  const heldBack = (rule: SQL) => sql`exists (select 1 from op) and exists (
      select 1 from chats b where b.tenant_id = ${tenantId} and b.state = 'waiting_assignment' and ${rule}
         and ${fits(sql.raw('b'))} and ${before(sql.raw('b'))})`;
  const idleMinutes =
    q.idleMinutes === undefined
      ? sql`coalesce((select s.idle_minutes from assignment_settings s where s.tenant_id = ${tenantId}),
                     ${DEFAULT_SETTINGS.idleMinutes})`
      : sql`${q.idleMinutes}::int`;
  // Only next-chat reports why a chat was held back (the exclusions metric).
  const held =
    q.mode === 'pull'
      ? sql`, ${heldBack(sql`b.last_operator_id = ${op} and ${lastRepliedBy(sql.raw('b'), op)}`)} as held_last,
           ${heldBack(sql`b.idle_operator_id = ${op}`)} as held_idle`
      : sql``;
  return sql`
    with op as (
      select o.skills from operators o
       where o.tenant_id = ${tenantId} and o.id = ${op} and o.status = 'online' and o.active_chats < o.capacity
         for update
    ), pick as (
      select c.id from chats c
       where exists (select 1 from op) and c.tenant_id = ${tenantId} and c.state = 'waiting_assignment'
         and ${fits(sql.raw('c'))} and not ${lastRepliedBy(sql.raw('c'), op)} and not ${idleFrom(sql.raw('c'), op)}
         ${excluded}
       order by c.waiting_since, c.id
       limit 1
         for update of c skip locked
    ), opened as (
      insert into chat_assignments (tenant_id, chat_id, operator_id, mode, assigned_at)
      select ${tenantId}::uuid, pick.id, ${op}, ${q.mode}::text, ${at}::timestamptz from pick
      returning id, chat_id
    ), claimed as (
      update chats c set state = 'assigned', assignee_id = ${op}, assignment_id = opened.id, idle_operator_id = null,
             assigned_at = ${at}::timestamptz, version = c.version + 1, updated_at = ${at}::timestamptz
        from opened
       where c.id = opened.chat_id
      returning c.id, c.assignment_id, c.waiting_since
    ), event as (
      insert into outbox (event_id, tenant_id, aggregate_id, exchange, routing_key, envelope)
      select ${envelope.id}::uuid, ${tenantId}::uuid, claimed.id::text, ${deps.names.events}::text, 'chat.assigned',
             ${JSON.stringify(envelope)}::jsonb || jsonb_build_object(
               'subject', claimed.id::text,
               'data', jsonb_build_object(
                 'chatId', claimed.id::text,
                 'operatorId', ${op},
                 'assignmentId', claimed.assignment_id,
                 'mode', ${q.mode}::text,
                 'waitedMs', greatest(0, round(extract(epoch from
                   ${at}::timestamptz - coalesce(claimed.waiting_since, ${at}::timestamptz)) * 1000))::bigint,
                 'at', ${at}::text))
        from claimed
    )
    select claimed.id as chat_id, claimed.assignment_id, claimed.waiting_since,
           ${idleMinutes} as idle_minutes
           ${held}
      from (select 1) as one left join claimed on true`;
}

const dialect = new PgDialect();
const pgQuery = (q: SQL) => {
  const { sql: text, params } = dialect.sqlToQuery(q);
  return { text, values: params };
};

async function whyNoClaim(
  ex: Executor,
  tenantId: string,
  operatorId: string,
): Promise<Exclude<NextChat['outcome'], 'assigned'>> {
  const r = await ex.execute<{ status: OperatorStatus; full: boolean }>(sql`
    select status, active_chats >= capacity as full from operators where tenant_id = ${tenantId} and id = ${operatorId}`);
  const o = r.rows[0];
  if (!o) return 'unknown_operator';
  if (o.status !== 'online') return 'not_online';
  return o.full ? 'at_capacity' : 'none_waiting';
}
