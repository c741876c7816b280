import { type Executor, type OutboxEntry, pgSafe, statementInTenant } from '@switchboard/db';
import type { OperatorStatus } from '@switchboard/domain';
import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { providerOf } from './chat-row.ts';
import { DEFAULT_SETTINGS } from './settings.ts';

/**
 * The domain's `barredBy` (shared/domain/src/chat-access.ts) over the chats row `c` for
 * `operator`: the same-operator rule (it answered last and the customer has not written since)
 * and the idle bar. A property test (claim-rule.int.test.ts) feeds random chats and operators to
 * both and requires they agree.
 */
export const lastRepliedBy = (c: SQL, operator: SQL) => sql`(${c}.last_operator_id is not distinct from ${operator}
  and ${c}.operator_replied_at is not null
  and (${c}.last_customer_message_at is null or ${c}.operator_replied_at >= ${c}.last_customer_message_at))`;
export const idleFrom = (c: SQL, operator: SQL) => sql`(${c}.idle_operator_id is not distinct from ${operator})`;
/** The chat's queue is one of the operator's skills (`skills`: an array expression), or it has none. */
export const fitsQueue = (c: SQL, skills: SQL) => sql`(${c}.queue is null or ${c}.queue = any(${skills}))`;

/** What one claim statement returns: the chat it assigned (null: none), and why chats were held back. */
export type ClaimRow = {
  chat_id: string | null;
  assignment_id: string | null;
  waited_ms: string | number | null;
  idle_minutes: number;
  held_last?: boolean;
  held_idle?: boolean;
  /** Pull mode: the operator's status and whether it was full, as the claim locked its row (null: no such operator). */
  operator_status?: OperatorStatus | null;
  operator_full?: boolean | null;
};

export interface ClaimQuery {
  tenantId: string;
  operatorId: string;
  mode: 'pull' | 'auto';
  at: string;
  exclude: string[];
  /** Known to the caller (auto-assign read the settings), or read by the statement (next-chat's one statement). */
  idleMinutes?: number;
}

/**
 * How long the claimed chat waited, in whole milliseconds, from the `waiting_since` of `row` (the
 * statement's pick or its `claimed` row): one expression for the assignment's `waited_ms` and
 * `chat.assigned`'s `waitedMs`, so the two agree.
 */
const waitedMs = (at: string, row: 'pick' | 'claimed') => sql`greatest(0, round(extract(epoch from
  ${at}::timestamptz - coalesce(${sql.raw(row)}.waiting_since, ${at}::timestamptz)) * 1000))::bigint`;

/**
 * The outbox insert of `assigned` (`chat.assigned`, built by the caller with the contracts' code
 * before the statement ran) with what only the statement knows written into it: the chat (the
 * subject, `data.chatId`), the assignment and the wait, as the statement returns them. The caller
 * rebuilds the same event from the returned row; claim.int.test.ts holds the two equal.
 */
const appendAssigned = (assigned: OutboxEntry, at: string) => {
  const envelope = JSON.stringify(pgSafe(assigned.event));
  return sql`, event as (
      insert into outbox (event_id, tenant_id, aggregate_id, exchange, routing_key, envelope)
      select ${assigned.event.id}::uuid, ${assigned.event.tenantid ?? null}::uuid, claimed.id::text,
             ${assigned.exchange}::text, ${assigned.routingKey}::text,
             e.envelope || jsonb_build_object('subject', claimed.id::text, 'data', (e.envelope -> 'data')
               || jsonb_build_object('chatId', claimed.id::text, 'assignmentId', claimed.assignment_id,
                                     'waitedMs', ${waitedMs(at, 'claimed')}))
        from claimed, (select ${envelope}::jsonb as envelope) e
    )`;
};

/**
 * One claim as one statement: lock the operator if it is online and below capacity, pick the
 * oldest waiting chat it may take (`skip locked`), open the assignment and assign the chat (its
 * trigger counts the operator's load). The pick mirrors the domain's `assign`: waiting, the
 * operator's queue, not barred. In pull mode it also tells whether a barred chat would otherwise
 * have been this operator's (the exclusions metric); auto mode skips the two subqueries. Rows
 * out: the caller builds `chat.assigned` from them with the contracts' code. Given `assigned`
 * (that event, built ahead), the statement also appends it to the outbox, so a claim that is its
 * own transaction costs one round trip (next-chat).
 */
export function claimStatement(q: ClaimQuery, assigned?: OutboxEntry): SQL {
  const { tenantId, at } = q;
  const op = sql`${q.operatorId}::text`;
  const skills = sql`(select skills from op)::text[]`;
  const excluded = q.exclude.length > 0 ? sql`and c.id <> all(${sql.param(q.exclude)}::uuid[])` : sql``;
  const before = (b: SQL) =>
    sql`(claimed.id is null or (${b}.waiting_since, ${b}.id) < (claimed.waiting_since, claimed.id))`;
  const heldBack = (rule: SQL) => sql`exists (select 1 from op) and exists (
      select 1 from chats b where b.tenant_id = ${tenantId} and b.state = 'waiting_assignment' and ${rule}
         and ${fitsQueue(sql.raw('b'), skills)} and ${before(sql.raw('b'))})`;
  const idleMinutes =
    q.idleMinutes === undefined
      ? sql`coalesce((select s.idle_minutes from assignment_settings s where s.tenant_id = ${tenantId}),
                     ${DEFAULT_SETTINGS.idleMinutes})`
      : sql`${q.idleMinutes}::int`;
  const held =
    q.mode === 'pull'
      ? sql`, ${heldBack(sql`b.last_operator_id = ${op} and ${lastRepliedBy(sql.raw('b'), op)}`)} as held_last,
           ${heldBack(sql`b.idle_operator_id = ${op}`)} as held_idle,
           (select status from operator) as operator_status, (select at_capacity from operator) as operator_full`
      : sql``;
  return sql`
    with operator as (
      select o.skills, o.status, o.active_chats >= o.capacity as at_capacity from operators o
       where o.tenant_id = ${tenantId} and o.id = ${op}
         for update
    ), op as (
      select skills from operator where status = 'online' and not at_capacity
    ), pick as (
      select c.id, c.waiting_since from chats c
       where exists (select 1 from op) and c.tenant_id = ${tenantId} and c.state = 'waiting_assignment'
         and ${fitsQueue(sql.raw('c'), skills)} and not ${lastRepliedBy(sql.raw('c'), op)}
         and not ${idleFrom(sql.raw('c'), op)}
         ${excluded}
       order by c.waiting_since, c.id
       limit 1
         for update of c skip locked
    ), opened as (
      insert into chat_assignments (tenant_id, chat_id, operator_id, mode, assigned_at, waited_ms, provider)
      select ${tenantId}::uuid, pick.id, ${op}, ${q.mode}::text, ${at}::timestamptz, ${waitedMs(at, 'pick')},
             ${providerOf(sql`pick.id`, tenantId)} from pick
      returning id, chat_id
    ), claimed as (
      update chats c set state = 'assigned', assignee_id = ${op}, assignment_id = opened.id, idle_operator_id = null,
             assigned_at = ${at}::timestamptz, version = c.version + 1, updated_at = ${at}::timestamptz
        from opened
       where c.id = opened.chat_id
      returning c.id, c.assignment_id, c.waiting_since
    )${assigned ? appendAssigned(assigned, at) : sql``}
    select claimed.id as chat_id, claimed.assignment_id, ${waitedMs(at, 'claimed')} as waited_ms,
           ${idleMinutes} as idle_minutes
           ${held}
      from (select 1) as one left join claimed on true`;
}

const dialect = new PgDialect();

/**
 * next-chat's claim with its `chat.assigned` outbox insert: its own transaction under the tenant,
 * in one round trip (`statementInTenant`: BEGIN, the tenant, the claim as a statement prepared once
 * per connection, COMMIT, as one message). This is the hot path. The row also says why the claim
 * found nothing (`whyNoClaim`), read from the operator's row as the claim locked it.
 */
export async function claimInTenant(
  q: ClaimQuery,
  pool: Parameters<typeof statementInTenant>[0],
  assigned: OutboxEntry,
): Promise<ClaimRow | undefined> {
  const { sql: text, params } = dialect.sqlToQuery(claimStatement(q, assigned));
  return (
    await statementInTenant<ClaimRow>(pool, q.tenantId, { name: 'assignment_next_chat', text, values: params })
  )[0];
}

/** Auto-assign's claim, in the caller's transaction. */
export async function claimIn(ex: Executor, q: ClaimQuery): Promise<ClaimRow | undefined> {
  return (await ex.execute<ClaimRow>(claimStatement(q))).rows[0];
}

/** Why an operator's claim found nothing: it is unknown, not online, full, or nothing it may take waits. */
export type NoClaimReason = 'unknown_operator' | 'not_online' | 'at_capacity' | 'none_waiting';

/** Why a pull claim that found nothing did, from the operator's row it locked. */
export function whyNoClaim(row: ClaimRow | undefined): NoClaimReason {
  if (!row?.operator_status) return 'unknown_operator';
  if (row.operator_status !== 'online') return 'not_online';
  return row.operator_full ? 'at_capacity' : 'none_waiting';
}
