import { appendOutbox, type Executor, transaction } from '@switchboard/db';
import type { OperatorStatus } from '@switchboard/domain';
import { sql } from 'drizzle-orm';
import { type Applied, changeChat, claimableChat, DEFAULT_SETTINGS, type Deps, settingsOf } from './chats.ts';

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
  // After the commit: a crash between the two loses nothing, the idle sweep finds it.
  for (const i of out.applied.flatMap((a) => a.idle)) {
    await deps.timers.schedule(i, i.delayMs).catch((err: unknown) => {
      deps.logger.warn({ err, chatId: i.chatId }, 'could not schedule the idle check; the sweep will catch it');
    });
  }
  return out;
}

export type NextChat =
  | { outcome: 'assigned'; chatId: string; assignmentId: number }
  | { outcome: 'none_waiting' | 'at_capacity' | 'not_online' | 'unknown_operator' };

/**
 * `POST /operators/:id/next-chat`: the oldest waiting chat this operator may take, claimed
 * atomically. The operator's row lock serializes its own calls (so capacity holds); `skip locked`
 * lets 200 operators claim at once without two getting one chat or waiting on each other.
 */
export async function nextChat(deps: Deps, tenantId: string, operatorId: string): Promise<NextChat> {
  const { result } = await commit(deps, async (tx) => {
    const res = await claimFor(tx, deps, tenantId, operatorId, 'pull');
    return { result: res.result, applied: res.applied };
  });
  deps.metrics.assignments.inc({ mode: 'pull', outcome: result.outcome === 'assigned' ? 'assigned' : result.outcome });
  return result;
}

async function claimFor(
  tx: Executor,
  deps: Deps,
  tenantId: string,
  operatorId: string,
  mode: 'pull' | 'auto',
): Promise<{ result: NextChat; applied: Applied[] }> {
  // The operator's row lock serializes its claims; whether the same-operator rule holds a chat
  // back from it is only counted (a metric), so this statement's snapshot is good enough for it.
  const op = await tx.execute<{
    status: OperatorStatus;
    capacity: number;
    skills: string[];
    idle_minutes: number;
    held_back: boolean;
  }>(sql`
    select o.status, o.capacity, o.skills, coalesce(s.idle_minutes, ${DEFAULT_SETTINGS.idleMinutes}) as idle_minutes,
           exists (select 1 from chats c
                    where c.tenant_id = o.tenant_id and c.state = 'waiting_assignment' and c.last_operator_id = o.id
                      and c.operator_replied_at is not null
                      and (c.last_customer_message_at is null or c.operator_replied_at >= c.last_customer_message_at)) as held_back
      from operators o left join assignment_settings s on s.tenant_id = o.tenant_id
     where o.tenant_id = ${tenantId} and o.id = ${operatorId}
       for update of o`);
  const o = op.rows[0];
  if (!o) return { result: { outcome: 'unknown_operator' }, applied: [] };
  if (o.status !== 'online') return { result: { outcome: 'not_online' }, applied: [] };
  if (mode === 'pull' && o.held_back) deps.metrics.sameOperatorExcluded.inc();
  const chat = await claimableChat(tx, tenantId, { id: operatorId, capacity: o.capacity, skills: o.skills });
  if (!chat) {
    // Nothing claimed: say why (the rare path, so the load is counted only here).
    const load = await tx.execute<{ n: number }>(sql`
      select count(*)::int as n from chats where tenant_id = ${tenantId} and state = 'assigned' and assignee_id = ${operatorId}`);
    const full = (load.rows[0]?.n ?? 0) >= o.capacity;
    return { result: { outcome: full ? 'at_capacity' : 'none_waiting' }, applied: [] };
  }
  const applied = await changeChat(
    tx,
    deps,
    { id: chat.id, tenantId },
    { kind: 'assign', operatorId, at: deps.now() },
    { mode, locked: chat, idleMinutes: o.idle_minutes },
  );
  if (!applied.ok) throw new Error(`claimed chat ${chat.id} could not be assigned: ${applied.reason}`);
  const assignmentId = applied.idle[0]?.assignmentId;
  if (assignmentId === undefined) throw new Error(`claimed chat ${chat.id} opened no assignment`);
  return { result: { outcome: 'assigned', chatId: chat.id, assignmentId }, applied: [applied] };
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
      left join lateral (select count(*)::int as n from chats c
                          where c.tenant_id = o.tenant_id and c.state = 'assigned' and c.assignee_id = o.id) l on true
      join chats ch on ch.id = ${chatId}
     where o.tenant_id = ${tenantId} and o.status = 'online' and l.n < o.capacity
       and (ch.queue is null or ch.queue = any(o.skills))
       and not (ch.last_operator_id is not distinct from o.id and ch.operator_replied_at is not null
                and (ch.last_customer_message_at is null or ch.operator_replied_at >= ch.last_customer_message_at))
     order by o.capacity - l.n desc, o.last_assigned_at asc nulls first, o.id
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
