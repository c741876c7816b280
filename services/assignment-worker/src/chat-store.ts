import type { Executor, OutboxEntry } from '@switchboard/db';
import { applyChatEvent, type Chat, type ChatEffects, type ChatEvent } from '@switchboard/domain';
import { type SQL, sql } from 'drizzle-orm';
import { type Applied, chatEvent, nothing } from './applied.ts';
import { type ChatRow, COLUMNS, type LockedChat, lockChat, toLockedChat } from './chat-row.ts';
import type { Deps } from './deps.ts';
import type { Count } from './metrics.ts';

/**
 * Applies one chat event under the chat's row lock: the state machine decides, this writes the
 * chat (against the version it read), opens or closes the assignment, and returns the events and
 * the row as written (`row`). `opts.locked` is the chat as the caller already locked it. An
 * assignment's idle check is the caller's to add: only it knows the tenant's settings.
 */
export async function changeChat(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  target: { id: string; tenantId: string },
  e: ChatEvent,
  opts: { mode?: 'pull' | 'auto'; locked?: LockedChat | null } = {},
): Promise<Applied> {
  const locked = opts.locked !== undefined ? opts.locked : await lockChat(tx, target.id, target.tenantId);
  const t = applyChatEvent(locked?.chat ?? null, e);
  if (!t.ok) return nothing(target, { ok: false, reason: t.reason });
  if (!t.changed) return nothing(target, { chat: t.chat, ...(locked ? { row: locked } : {}) });
  const at = e.at.toISOString();
  const mode = opts.mode ?? 'pull';
  // The whole change is one statement: the assignment closed or opened in data-modifying CTEs,
  // and the chat written with the new assignment's id (its trigger moves the operators' loads).
  const plan = assignmentWrites(target, t.effects, locked, at, mode);
  const write = writeChat(target, t.chat, locked, plan.assignment, at);
  const r = await tx.execute<ChatRow>(
    plan.ctes.length > 0 ? sql`with ${sql.join(plan.ctes, sql`, `)} ${write}` : write,
  );
  const written = r.rows[0];
  if (r.rows.length !== 1 || !written) throw new Error(`chat ${target.id} changed under its row lock`);
  const row = toLockedChat(written);
  const assignmentId = t.effects.assigned ? row.assignmentId : null;
  const waitedMs = Math.max(0, e.at.getTime() - (t.chat.waitingSince?.getTime() ?? e.at.getTime()));
  const ids = { ended: locked?.assignmentId ?? null, opened: assignmentId, waitedMs };
  const out = nothing(target, { chat: t.chat, effects: t.effects, row });
  out.outbox.push(...announce(deps, target, t.effects, ids, at, mode));
  out.counts.push(...countsOf(t.effects, ids, mode));
  return out;
}

/** The assignment's end or start as CTEs, and the chat's assignment columns after them. */
function assignmentWrites(
  target: { id: string; tenantId: string },
  effects: ChatEffects,
  locked: LockedChat | null,
  at: string,
  mode: 'pull' | 'auto',
) {
  const ctes: SQL[] = [];
  let assignment = {
    id: sql`${locked?.assignmentId ?? null}::bigint`,
    at: sql`${locked?.assignedAt?.toISOString() ?? null}::timestamptz`,
  };
  if (effects.released && locked?.assignmentId != null) {
    ctes.push(sql`closed_assignment as (
      update chat_assignments set ended_at = ${at}, end_reason = ${effects.released.reason}
       where id = ${locked.assignmentId} and tenant_id = ${target.tenantId} and ended_at is null)`);
    assignment = { id: sql`null::bigint`, at: sql`null::timestamptz` };
  }
  if (effects.assigned) {
    ctes.push(sql`opened as (
      insert into chat_assignments (tenant_id, chat_id, operator_id, mode, assigned_at)
      values (${target.tenantId}, ${target.id}, ${effects.assigned.operatorId}, ${mode}, ${at})
      returning id)`);
    assignment = { id: sql`(select id from opened)`, at: sql`${at}::timestamptz` };
  }
  return { ctes, assignment };
}

/** chat.released, chat.assigned, chat.completed for what the transition did, in that order. */
function announce(
  deps: Pick<Deps, 'names' | 'now'>,
  target: { id: string; tenantId: string },
  effects: ChatEffects,
  assignment: { ended: number | null; opened: number | null; waitedMs: number },
  at: string,
  mode: 'pull' | 'auto',
): OutboxEntry[] {
  const { id: chatId, tenantId } = target;
  const out: OutboxEntry[] = [];
  const { released, assigned, completed } = effects;
  if (released && assignment.ended !== null) {
    const { operatorId, reason } = released;
    out.push(
      chatEvent(deps, 'chat.released', tenantId, chatId, {
        chatId,
        operatorId,
        assignmentId: assignment.ended,
        reason,
        at,
      }),
    );
  }
  if (assigned && assignment.opened !== null) {
    out.push(
      chatEvent(deps, 'chat.assigned', tenantId, chatId, {
        chatId,
        operatorId: assigned.operatorId,
        assignmentId: assignment.opened,
        mode,
        waitedMs: Math.round(assignment.waitedMs),
        at,
      }),
    );
  }
  if (completed)
    out.push(chatEvent(deps, 'chat.completed', tenantId, chatId, { chatId, reason: completed.reason, at }));
  return out;
}
/** The metrics of a committed transition: an assignment's end and its wait, the stuck sweep's action. */
function countsOf(
  effects: ChatEffects,
  assignment: { ended: number | null; opened: number | null; waitedMs: number },
  mode: 'pull' | 'auto',
): Count[] {
  const out: Count[] = [];
  if (effects.released && assignment.ended !== null)
    out.push({ metric: 'releases', labels: { reason: effects.released.reason } });
  if (assignment.opened !== null) out.push({ metric: 'waitTime', labels: { mode }, value: assignment.waitedMs / 1000 });
  if (effects.flagged) out.push({ metric: 'stuck', labels: { action: 'flag' } });
  if (effects.completed?.reason === 'stuck') out.push({ metric: 'stuck', labels: { action: 'complete' } });
  return out;
}

const ts = (d: Date | null) => sql`${d?.toISOString() ?? null}::timestamptz`;

/** The statement that writes the chat (an update against the version it read, or the first insert). */
function writeChat(
  target: { id: string; tenantId: string },
  c: Chat,
  locked: LockedChat | null,
  assignment: { id: SQL; at: SQL },
  at: string,
): SQL {
  if (locked) {
    return sql`
      update chats set state = ${c.state}, assignee_id = ${c.assigneeId}, last_operator_id = ${c.lastOperatorId},
             operator_replied_at = ${ts(c.operatorRepliedAt)}, last_customer_message_at = ${ts(c.lastCustomerMessageAt)},
             waiting_since = ${ts(c.waitingSince)}, assignment_id = ${assignment.id}, assigned_at = ${assignment.at},
             completed_at = ${ts(c.completedAt)}, closed = ${c.closed}, idle_operator_id = ${c.idleOperatorId},
             flagged_at = ${ts(c.flaggedAt)}, queue = ${c.queue}, version = version + 1, updated_at = ${at}
       where id = ${target.id} and tenant_id = ${target.tenantId} and version = ${locked.version}
      returning ${COLUMNS}`;
  }
  return sql`
    insert into chats (id, tenant_id, state, assignee_id, last_operator_id, operator_replied_at, last_customer_message_at,
                       waiting_since, assignment_id, assigned_at, queue, updated_at)
    values (${target.id}, ${target.tenantId}, ${c.state}, ${c.assigneeId}, ${c.lastOperatorId}, ${ts(c.operatorRepliedAt)},
            ${ts(c.lastCustomerMessageAt)}, ${ts(c.waitingSince)}, ${assignment.id}, ${assignment.at}, ${c.queue}, ${at})
    returning ${COLUMNS}`;
}
