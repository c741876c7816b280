import { sql } from 'drizzle-orm';
import { autoAssign, pushFreed } from './auto-assign.ts';
import { lockChat } from './chat-row.ts';
import { changeChat } from './chat-store.ts';
import { commit } from './commit.ts';
import { DEFAULT_SETTINGS, type Deps, settingsOf } from './deps.ts';

/**
 * The idle rule: an assignment still open `idle_minutes` (the tenant's) after it began is
 * released and the chat requeued (reason `idle`); an operator's answer would have ended it. Checks
 * one assignment (its BullMQ job) or all that are due (the sweep), each under the chat's row lock.
 */
export async function releaseIdle(deps: Deps, only?: { chatId: string; assignmentId: number }): Promise<number> {
  const now = deps.now();
  const due = await deps.db.execute<{ id: string; tenant_id: string; idle_minutes: number }>(sql`
    select c.id, c.tenant_id, coalesce(s.idle_minutes, ${DEFAULT_SETTINGS.idleMinutes}) as idle_minutes from chats c
      left join assignment_settings s on s.tenant_id = c.tenant_id
     where c.state = 'assigned'
       and c.assigned_at <= ${now.toISOString()}::timestamptz
                            - make_interval(mins => coalesce(s.idle_minutes, ${DEFAULT_SETTINGS.idleMinutes}))
       ${only ? sql`and c.id = ${only.chatId} and c.assignment_id = ${only.assignmentId}` : sql``}
     limit 500`);
  let released = 0;
  for (const row of due.rows) {
    const cutoff = now.getTime() - row.idle_minutes * 60_000;
    const { done } = await commit(deps, async (tx) => {
      // Re-checked under the row lock: a reply, a release or a new assignment may have won the race.
      const locked = await lockChat(tx, row.id, row.tenant_id);
      const still =
        locked?.chat.state === 'assigned' &&
        locked.assignedAt !== null &&
        locked.assignedAt.getTime() <= cutoff &&
        (!only || locked.assignmentId === only.assignmentId);
      if (!still) return { done: false, applied: [] };
      const target = { id: row.id, tenantId: row.tenant_id };
      const a = await changeChat(tx, deps, target, { kind: 'release', reason: 'idle', at: now }, { locked });
      return { done: a.ok, applied: [a, ...(await pushFreed(tx, deps, row.tenant_id, [a]))] };
    });
    if (done) released += 1;
  }
  return released;
}

/**
 * Chats that waited on the customer longer than the tenant's `stuck_hours` are completed or
 * flagged (`stuck_action`). The state machine re-checks each under its row lock (the customer may
 * have written meanwhile), and only a real change counts. Returns how many changed.
 */
export async function handleStuck(deps: Deps): Promise<number> {
  const now = deps.now();
  const due = await deps.db.execute<{ id: string; tenant_id: string; action: string; stuck_hours: number }>(sql`
    select c.id, c.tenant_id, coalesce(s.stuck_action, ${DEFAULT_SETTINGS.stuckAction}) as action,
           coalesce(s.stuck_hours, ${DEFAULT_SETTINGS.stuckHours}) as stuck_hours
      from chats c
      left join assignment_settings s on s.tenant_id = c.tenant_id
     where c.state = 'waiting_real_user_reply'
       and (c.flagged_at is null or coalesce(s.stuck_action, ${DEFAULT_SETTINGS.stuckAction}) = 'complete')
       and c.operator_replied_at <= ${now.toISOString()}::timestamptz
                                    - make_interval(hours => coalesce(s.stuck_hours, ${DEFAULT_SETTINGS.stuckHours}))
     limit 500`);
  let changed = 0;
  for (const row of due.rows) {
    const action = row.action === 'complete' ? 'complete' : 'flag';
    const { done } = await commit(deps, async (tx) => {
      const locked = await lockChat(tx, row.id, row.tenant_id);
      if (!locked) return { done: false, applied: [] };
      // A completion is stamped with Postgres's clock, the one a later customer message is compared with.
      const at = action === 'complete' ? locked.dbNow : now;
      const repliedBefore = new Date(now.getTime() - row.stuck_hours * 3_600_000);
      const a = await changeChat(
        tx,
        deps,
        { id: row.id, tenantId: row.tenant_id },
        { kind: 'stuck', action, repliedBefore, at },
        { locked },
      );
      const moved = a.ok && (a.effects.flagged === true || a.effects.completed !== undefined);
      return { done: moved, applied: [a] };
    });
    if (done) changed += 1;
  }
  return changed;
}

/**
 * Auto-assign tenants' safety net: waiting chats that no push reached (an operator row was locked
 * by a concurrent claim when the chat became waiting) are offered again, oldest first.
 */
export async function pushWaiting(deps: Deps): Promise<number> {
  const waiting = await deps.db.execute<{ id: string; tenant_id: string }>(sql`
    select c.id, c.tenant_id from chats c
      join assignment_settings s on s.tenant_id = c.tenant_id and s.auto_assign
     where c.state = 'waiting_assignment'
       and exists (select 1 from operators o
                    where o.tenant_id = c.tenant_id and o.status = 'online' and o.active_chats < o.capacity)
     order by c.waiting_since, c.id
     limit 200`);
  let pushed = 0;
  for (const row of waiting.rows) {
    const { applied } = await commit(deps, async (tx) => {
      const locked = await lockChat(tx, row.id, row.tenant_id);
      if (!locked) return { applied: [] };
      const settings = await settingsOf(tx, row.tenant_id);
      return { applied: await autoAssign(tx, deps, settings, locked, { countMiss: false }) };
    });
    if (applied.some((a) => a.effects.assigned)) pushed += 1;
  }
  return pushed;
}
