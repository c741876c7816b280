import { createEvent, domainEventType } from '@switchboard/contracts';
import { appendOutbox, type Executor, transaction } from '@switchboard/db';
import type { OperatorStatus } from '@switchboard/domain';
import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { type Applied, changeChat, DEFAULT_SETTINGS, type Deps, SOURCE, settingsOf } from './chats.ts';

/** Commits `fn`'s outbox with it, then schedules the idle checks of the assignments it made. */
export async function commit<T extends { applied: Applied[] }>(
  deps: Deps,
  fn: (tx: Executor) => Promise<T>,
): Promise<T> {
  const out = await transaction(deps.pool, async (tx) => {
    const r = await fn(tx);
    await appendOutbox(
      tx,
      r.applied.flatMap((a) => a.outbox),
    );
    return r;
  });
  await scheduleIdle(deps, out.applied);
  return out;
}

/** After the commit: a crash between the two loses nothing, the idle sweep finds it. */
async function scheduleIdle(deps: Deps, applied: Applied[]): Promise<void> {
  for (const i of applied.flatMap((a) => a.idle)) {
    await deps.timers.schedule(i, i.delayMs).catch((err: unknown) => {
      deps.logger.warn({ err, chatId: i.chatId }, 'could not schedule the idle check; the sweep will catch it');
    });
  }
}

export type NextChat =
  | { outcome: 'assigned'; chatId: string; assignmentId: number }
  | { outcome: 'none_waiting' | 'at_capacity' | 'not_online' | 'unknown_operator' };

/**
 * The same-operator rule (`excludedForOperator` in the domain) over the chats row `c`: the chat
 * waits for its customer to answer `operator`, who replied last.
 */
const barredFor = (operator: SQL) => sql`(c.last_operator_id is not distinct from ${operator}
  and c.operator_replied_at is not null
  and (c.last_customer_message_at is null or c.operator_replied_at >= c.last_customer_message_at))`;

/**
 * `POST /operators/:id/next-chat`: the oldest waiting chat this operator may take, claimed in one
 * statement (its own transaction): the operator's row lock serializes its claims and, read
 * through that lock, its load is current, so capacity holds; `skip locked` lets 200 operators
 * claim at once without two getting one chat or waiting on each other.
 */
export async function nextChat(deps: Deps, tenantId: string, operatorId: string): Promise<NextChat> {
  const { result, applied } = await claimFor(deps.db, deps, tenantId, operatorId, 'pull', 'assignment-next-chat');
  // The operator has the chat once the claim commits; its idle check is scheduled meanwhile.
  void scheduleIdle(deps, applied);
  deps.metrics.assignments.inc({ mode: 'pull', outcome: result.outcome === 'assigned' ? 'assigned' : result.outcome });
  return result;
}

/**
 * One claim as one statement, so it costs one round trip: lock the operator if it is online and
 * below capacity, pick the oldest waiting chat it may take (`skip locked`), open the assignment,
 * assign the chat (its trigger counts the operator's load) and append `chat.assigned` to the
 * outbox. The pick mirrors the domain's `assign` rule: waiting, the operator's queue, not barred
 * by the same-operator rule. Nothing claimed: a second query says why.
 */
async function claimFor(
  ex: Executor,
  deps: Deps,
  tenantId: string,
  operatorId: string,
  mode: 'pull' | 'auto',
  /** Run as this named prepared statement on the pool (planned once per connection). */
  statementName?: string,
): Promise<{ result: NextChat; applied: Applied[] }> {
  const at = deps.now().toISOString();
  const { data: _, ...envelope } = createEvent({
    source: SOURCE,
    type: domainEventType('chat.assigned'),
    tenantid: tenantId,
    time: new Date(at),
    data: null,
  });
  const op = sql`${operatorId}::text`;
  const claim = sql`
    with op as (
      select o.skills from operators o
       where o.tenant_id = ${tenantId} and o.id = ${op} and o.status = 'online' and o.active_chats < o.capacity
         for update
    ), pick as (
      select c.id from chats c
       where exists (select 1 from op) and c.tenant_id = ${tenantId} and c.state = 'waiting_assignment'
         and (c.queue is null or c.queue = any((select skills from op)::text[]))
         and not ${barredFor(op)}
       order by c.waiting_since, c.id
       limit 1
         for update of c skip locked
    ), opened as (
      insert into chat_assignments (tenant_id, chat_id, operator_id, mode, assigned_at)
      select ${tenantId}::uuid, pick.id, ${op}, ${mode}::text, ${at}::timestamptz from pick
      returning id, chat_id
    ), claimed as (
      update chats c set state = 'assigned', assignee_id = ${op}, assignment_id = opened.id,
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
                 'mode', ${mode}::text,
                 'waitedMs', greatest(0, round(extract(epoch from
                   ${at}::timestamptz - coalesce(claimed.waiting_since, ${at}::timestamptz)) * 1000))::bigint,
                 'at', ${at}::text))
        from claimed
    )
    select claimed.id as chat_id, claimed.assignment_id, claimed.waiting_since,
           coalesce((select s.idle_minutes from assignment_settings s where s.tenant_id = ${tenantId}),
                    ${DEFAULT_SETTINGS.idleMinutes}) as idle_minutes,
           exists (select 1 from chats c
                    where c.tenant_id = ${tenantId} and c.state = 'waiting_assignment' and c.last_operator_id = ${op}
                      and ${barredFor(op)}) as held_back
      from (select 1) as one left join claimed on true`;
  type Row = {
    chat_id: string | null;
    assignment_id: string | null;
    waiting_since: Date | string | null;
    idle_minutes: number;
    held_back: boolean;
  };
  const rows = statementName
    ? (await deps.pool.query<Row>({ name: statementName, ...pgQuery(claim) })).rows
    : (await ex.execute<Row>(claim)).rows;
  const row = rows[0];
  if (mode === 'pull' && row?.held_back) deps.metrics.sameOperatorExcluded.inc();
  if (!row?.chat_id) return { result: { outcome: await whyNoClaim(ex, tenantId, operatorId) }, applied: [] };
  const assignmentId = Number(row.assignment_id);
  const waitingSince = row.waiting_since === null ? null : new Date(row.waiting_since);
  deps.metrics.waitTime.observe(
    { mode },
    Math.max(0, Date.parse(at) - (waitingSince?.getTime() ?? Date.parse(at))) / 1000,
  );
  return {
    result: { outcome: 'assigned', chatId: row.chat_id, assignmentId },
    applied: [
      {
        ok: true,
        outbox: [], // appended by the statement itself
        idle: [{ tenantId, chatId: row.chat_id, assignmentId, delayMs: row.idle_minutes * 60_000 }],
      },
    ],
  };
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

/**
 * Auto-assign (per tenant): a waiting chat goes to the online operator with the most free
 * capacity, the least recently assigned first, skipping the operator the same-operator rule bars.
 * Runs in the transaction that made the chat wait.
 */
export async function autoAssign(tx: Executor, deps: Deps, tenantId: string, chatId: string): Promise<Applied[]> {
  const settings = await settingsOf(tx, tenantId);
  if (!settings.autoAssign) return [];
  const pick = await tx.execute<{ id: string }>(sql`
    select o.id from operators o
      join chats c on c.id = ${chatId}
     where o.tenant_id = ${tenantId} and o.status = 'online' and o.active_chats < o.capacity
       and (c.queue is null or c.queue = any(o.skills))
       and not ${barredFor(sql`o.id`)}
     order by o.capacity - o.active_chats desc, o.last_assigned_at asc nulls first, o.id
     limit 1
       for update of o`);
  const operatorId = pick.rows[0]?.id;
  if (!operatorId) {
    deps.metrics.assignments.inc({ mode: 'auto', outcome: 'none_available' });
    return [];
  }
  const applied = await changeChat(
    tx,
    deps,
    { id: chatId, tenantId },
    { kind: 'assign', operatorId, at: deps.now() },
    { mode: 'auto' },
  );
  deps.metrics.assignments.inc({ mode: 'auto', outcome: applied.ok ? 'assigned' : 'refused' });
  return applied.ok ? [applied] : [];
}

/** An operator came online (auto-assign tenants): fill its free capacity from the queue, oldest first. */
export async function fillOperator(tx: Executor, deps: Deps, tenantId: string, operatorId: string): Promise<Applied[]> {
  const settings = await settingsOf(tx, tenantId);
  if (!settings.autoAssign) return [];
  const applied: Applied[] = [];
  for (let i = 0; i < 100; i++) {
    const r = await claimFor(tx, deps, tenantId, operatorId, 'auto');
    if (r.result.outcome !== 'assigned') break;
    deps.metrics.assignments.inc({ mode: 'auto', outcome: 'assigned' });
    applied.push(...r.applied);
  }
  return applied;
}

/**
 * The idle rule: an assignment with no operator reply for the tenant's `idle_minutes` is released
 * and the chat requeued (reason `idle`). Checks one assignment (the BullMQ job) or all (the sweep).
 */
export async function releaseIdle(deps: Deps, only?: { chatId: string; assignmentId: number }): Promise<number> {
  const now = deps.now();
  const due = await deps.db.execute<{ id: string; tenant_id: string }>(sql`
    select c.id, c.tenant_id from chats c
      left join assignment_settings s on s.tenant_id = c.tenant_id
     where c.state = 'assigned'
       and c.assigned_at <= ${now.toISOString()}::timestamptz - make_interval(mins => coalesce(s.idle_minutes, 10))
       and (c.operator_replied_at is null or c.operator_replied_at < c.assigned_at)
       ${only ? sql`and c.id = ${only.chatId} and c.assignment_id = ${only.assignmentId}` : sql``}
     limit 500`);
  let released = 0;
  for (const row of due.rows) {
    const { applied } = await commit(deps, async (tx) => {
      // Re-checked under the row lock: a reply or a release may have won the race.
      const still = await tx.execute<{ id: string }>(sql`
        select id from chats where id = ${row.id} and state = 'assigned'
           and (operator_replied_at is null or operator_replied_at < assigned_at)
           ${only ? sql`and assignment_id = ${only.assignmentId}` : sql``}
           for update`);
      if (still.rows.length === 0) return { applied: [] as Applied[] };
      const a = await changeChat(
        tx,
        deps,
        { id: row.id, tenantId: row.tenant_id },
        { kind: 'release', reason: 'idle', at: now },
      );
      const more = a.ok ? await autoAssign(tx, deps, row.tenant_id, row.id) : [];
      return { applied: a.ok ? [a, ...more] : [] };
    });
    if (applied.length > 0) released += 1;
  }
  return released;
}

/** Chats that waited on the customer longer than the tenant's `stuck_hours`: completed or flagged. */
export async function handleStuck(deps: Deps): Promise<number> {
  const now = deps.now();
  const due = await deps.db.execute<{ id: string; tenant_id: string; action: string }>(sql`
    select c.id, c.tenant_id, coalesce(s.stuck_action, 'flag') as action from chats c
      left join assignment_settings s on s.tenant_id = c.tenant_id
     where c.state = 'waiting_real_user_reply' and c.flagged_at is null
       and c.operator_replied_at <= ${now.toISOString()}::timestamptz - make_interval(hours => coalesce(s.stuck_hours, 24))
     limit 500`);
  for (const row of due.rows) {
    await commit(deps, async (tx) => {
      if (row.action === 'complete') {
        const a = await changeChat(
          tx,
          deps,
          { id: row.id, tenantId: row.tenant_id },
          { kind: 'complete', reason: 'stuck', at: now },
        );
        deps.metrics.stuck.inc({ action: 'complete' });
        return { applied: a.ok ? [a] : [] };
      }
      await tx.execute(
        sql`update chats set flagged_at = ${now.toISOString()}, version = version + 1 where id = ${row.id} and flagged_at is null`,
      );
      deps.metrics.stuck.inc({ action: 'flag' });
      return { applied: [] as Applied[] };
    });
  }
  return due.rows.length;
}
