import type { Executor } from '@switchboard/db';
import { sql } from 'drizzle-orm';
import { DEFAULT_SETTINGS } from './settings.ts';

/**
 * What the timers find due, read without locks: each job re-checks a row under its lock before
 * it changes it.
 */

/** Assignments open `idle_minutes` (the tenant's) or longer at `now`; `only`: that one assignment. */
export async function dueIdle(db: Executor, now: Date, only?: { chatId: string; assignmentId: number }) {
  const due = await db.execute<{ id: string; tenant_id: string; idle_minutes: number }>(sql`
    select c.id, c.tenant_id, coalesce(s.idle_minutes, ${DEFAULT_SETTINGS.idleMinutes}) as idle_minutes from chats c
      left join assignment_settings s on s.tenant_id = c.tenant_id
     where c.state = 'assigned'
       and c.assigned_at <= ${now.toISOString()}::timestamptz
                            - make_interval(mins => coalesce(s.idle_minutes, ${DEFAULT_SETTINGS.idleMinutes}))
       ${only ? sql`and c.id = ${only.chatId} and c.assignment_id = ${only.assignmentId}` : sql``}
     limit 500`);
  return due.rows;
}

/** Chats waiting on the customer past the tenant's `stuck_hours`, with the tenant's action. */
export async function dueStuck(db: Executor, now: Date) {
  const due = await db.execute<{ id: string; tenant_id: string; action: string; stuck_hours: number }>(sql`
    select c.id, c.tenant_id, coalesce(s.stuck_action, ${DEFAULT_SETTINGS.stuckAction}) as action,
           coalesce(s.stuck_hours, ${DEFAULT_SETTINGS.stuckHours}) as stuck_hours
      from chats c
      left join assignment_settings s on s.tenant_id = c.tenant_id
     where c.state = 'waiting_real_user_reply'
       and (c.flagged_at is null or coalesce(s.stuck_action, ${DEFAULT_SETTINGS.stuckAction}) = 'complete')
       and c.operator_replied_at <= ${now.toISOString()}::timestamptz
                                    - make_interval(hours => coalesce(s.stuck_hours, ${DEFAULT_SETTINGS.stuckHours}))
     limit 500`);
  return due.rows;
}

/** Auto-assign tenants' waiting chats while some operator of theirs has room, oldest first. */
export async function waitingWithRoom(db: Executor) {
  const waiting = await db.execute<{ id: string; tenant_id: string }>(sql`
    select c.id, c.tenant_id from chats c
      join assignment_settings s on s.tenant_id = c.tenant_id and s.auto_assign
     where c.state = 'waiting_assignment'
       and exists (select 1 from operators o
                    where o.tenant_id = c.tenant_id and o.status = 'online' and o.active_chats < o.capacity)
     order by c.waiting_since, c.id
     limit 200`);
  return waiting.rows;
}
