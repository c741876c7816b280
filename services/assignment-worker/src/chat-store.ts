import type { DomainEventData, DomainEventKey } from '@switchboard/contracts';
import { domainOutboxEntry, type Executor, type OutboxEntry } from '@switchboard/db';
import { applyChatEvent, type Chat, type ChatEffects, type ChatEvent } from '@switchboard/domain';
import { type SQL, sql } from 'drizzle-orm';
import { type LockedChat, lockChat } from './chat-row.ts';
import { type Deps, type IdleCheck, SOURCE, settingsOf } from './deps.ts';
import type { Count } from './metrics.ts';

/** A domain event about a chat for the outbox (subject: the chat). */
export const chatEvent = <K extends DomainEventKey>(
  deps: Pick<Deps, 'names' | 'now'>,
  key: K,
  tenantId: string,
  chatId: string,
  data: DomainEventData<K>,
): OutboxEntry =>
  domainOutboxEntry({
    exchange: deps.names.events,
    source: SOURCE,
    key,
    tenantId,
    subject: chatId,
    time: deps.now(),
    data,
  });

/** One chat change: what it did, the events for the outbox, and what to do once it commits. */
export interface Applied {
  ok: boolean;
  reason?: string;
  chatId: string;
  tenantId: string;
  chat?: Chat;
  effects: ChatEffects;
  outbox: OutboxEntry[];
  /** Idle checks to schedule once the transaction committed. */
  idle: IdleCheck[];
  /** Metrics to record once the transaction committed. */
  counts: Count[];
}

export const nothing = (target: { id: string; tenantId: string }, over: Partial<Applied> = {}): Applied => ({
  ok: true,
  chatId: target.id,
  tenantId: target.tenantId,
  effects: {},
  outbox: [],
  idle: [],
  counts: [],
  ...over,
});

/**
 * Applies one chat event under the chat's row lock: the state machine decides, this writes the
 * chat (against the version it read), opens or closes the assignment, and returns the events.
 * `opts.locked` is the chat as the caller already locked it.
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
  if (!t.changed) return nothing(target, { chat: t.chat });
  const at = e.at.toISOString();
  const mode = opts.mode ?? 'pull';
  const out = nothing(target, { chat: t.chat, effects: t.effects });
  // The whole change is one statement: the assignment closed or opened in data-modifying CTEs,
  // and the chat written with the new assignment's id (its trigger moves the operators' loads).
  const ctes: SQL[] = [];
  let assignment = {
    id: sql`${locked?.assignmentId ?? null}::bigint`,
    at: sql`${locked?.assignedAt?.toISOString() ?? null}::timestamptz`,
  };
  const released = t.effects.released;
  if (released && locked?.assignmentId != null) {
    ctes.push(sql`closed_assignment as (
      update chat_assignments set ended_at = ${at}, end_reason = ${released.reason}
       where id = ${locked.assignmentId} and ended_at is null)`);
    out.counts.push({ metric: 'release', reason: released.reason });
    out.outbox.push(
      chatEvent(deps, 'chat.released', target.tenantId, target.id, {
        chatId: target.id,
        operatorId: released.operatorId,
        assignmentId: locked.assignmentId,
        reason: released.reason,
        at,
      }),
    );
    assignment = { id: sql`null::bigint`, at: sql`null::timestamptz` };
  }
  const assigned = t.effects.assigned;
  if (assigned) {
    ctes.push(sql`opened as (
      insert into chat_assignments (tenant_id, chat_id, operator_id, mode, assigned_at)
      values (${target.tenantId}, ${target.id}, ${assigned.operatorId}, ${mode}, ${at})
      returning id)`);
    assignment = { id: sql`(select id from opened)`, at: sql`${at}::timestamptz` };
  }
  const write = writeChat(target, t.chat, locked, assignment, at);
  const r = await tx.execute<{ assignment_id: string | number | null }>(
    ctes.length > 0 ? sql`with ${sql.join(ctes, sql`, `)} ${write}` : write,
  );
  if (r.rows.length !== 1) throw new Error(`chat ${target.id} changed under its row lock`);

  if (assigned) {
    const id = Number(r.rows[0]?.assignment_id);
    const waitedMs = Math.max(0, e.at.getTime() - (t.chat.waitingSince?.getTime() ?? e.at.getTime()));
    out.counts.push({ metric: 'wait', mode, seconds: waitedMs / 1000 });
    out.outbox.push(
      chatEvent(deps, 'chat.assigned', target.tenantId, target.id, {
        chatId: target.id,
        operatorId: assigned.operatorId,
        assignmentId: id,
        mode,
        waitedMs: Math.round(waitedMs),
        at,
      }),
    );
    const { idleMinutes } = await settingsOf(tx, target.tenantId);
    out.idle.push({ tenantId: target.tenantId, chatId: target.id, assignmentId: id, delayMs: idleMinutes * 60_000 });
  }
  const completed = t.effects.completed;
  if (completed) {
    out.outbox.push(
      chatEvent(deps, 'chat.completed', target.tenantId, target.id, {
        chatId: target.id,
        reason: completed.reason,
        at,
      }),
    );
  }
  if (t.effects.flagged) out.counts.push({ metric: 'stuck', action: 'flag' });
  if (completed?.reason === 'stuck') out.counts.push({ metric: 'stuck', action: 'complete' });
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
       where id = ${target.id} and version = ${locked.version}
      returning assignment_id`;
  }
  return sql`
    insert into chats (id, tenant_id, state, assignee_id, last_operator_id, operator_replied_at, last_customer_message_at,
                       waiting_since, assignment_id, assigned_at, queue, updated_at)
    values (${target.id}, ${target.tenantId}, ${c.state}, ${c.assigneeId}, ${c.lastOperatorId}, ${ts(c.operatorRepliedAt)},
            ${ts(c.lastCustomerMessageAt)}, ${ts(c.waitingSince)}, ${assignment.id}, ${assignment.at}, ${c.queue}, ${at})
    returning assignment_id`;
}
