import type { AssignMode } from '@switchboard/contracts';
import type { Executor, OutboxEntry } from '@switchboard/db';
import { applyChatEvent, type ChatEffects, type ChatEvent } from '@switchboard/domain';
import type { Deps } from '../deps.ts';
import type { Count } from '../metrics.ts';
import { holdRow, type LockedChat, lockChat } from '../store/chat-row.ts';
import { type ChatWrite, deferChatChange, writeChatChange, writeHeldChats } from '../store/chats.ts';
import { type ChatChange, chatEvent, nothing } from './effects.ts';

/** A transfer's two halves name each other: the release its target, the assignment its origin. */
export interface Handover {
  fromOperatorId: string;
  toOperatorId: string;
  note?: string | undefined;
}

/**
 * Applies one chat event under the chat's row lock: the state machine decides, this writes the
 * chat (against the version it read), opens or closes the assignment, and returns the events and
 * the row as written (`row`). `opts.locked` is the chat as the caller already locked it;
 * `opts.handover` marks a transfer's release or assignment. An assignment's idle check is the
 * caller's to add: only it knows the tenant's settings.
 */
export async function changeChat(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  target: { id: string; tenantId: string },
  e: ChatEvent,
  opts: { mode?: AssignMode; locked?: LockedChat | null; handover?: Handover } = {},
): Promise<ChatChange> {
  const locked = opts.locked !== undefined ? opts.locked : await lockChat(tx, target.id, target.tenantId);
  const t = applyChatEvent(locked?.chat ?? null, e);
  if (!t.ok) return nothing(target, { ok: false, reason: t.reason });
  if (!t.changed) return nothing(target, { chat: t.chat, ...(locked ? { row: locked } : {}) });
  const at = e.at.toISOString();
  const mode = opts.handover ? 'transfer' : (opts.mode ?? 'pull');
  const waitedMs = Math.max(0, e.at.getTime() - (t.chat.waitingSince?.getTime() ?? e.at.getTime()));
  const change = { chat: t.chat, effects: t.effects, locked: locked ?? null, at, mode, waitedMs };
  const { row, queueWaitMs } = await writeNowOrWithTheBatch(tx, target, change);
  const assignmentId = t.effects.assigned ? row.assignmentId : null;
  const ids = { ended: locked?.assignmentId ?? null, opened: assignmentId, waitedMs };
  const out = nothing(target, { chat: t.chat, effects: t.effects, row });
  out.outbox.push(...announce(deps, target, t.effects, ids, at, mode, opts.handover));
  const handleMs = locked?.assignedAt ? Math.max(0, e.at.getTime() - locked.assignedAt.getTime()) : null;
  out.counts.push(...countsOf(t.effects, { ...ids, queueWaitMs, handleMs }, mode));
  return out;
}

/**
 * A chat the batch locked ahead, changed without opening or closing an assignment, is changed in
 * memory and written with the batch's other chats, in one statement before the commit
 * (`writeHeldChats`). Any other change is written now, after the batch's changes kept so far (its
 * version guard reads the table as they leave it).
 */
async function writeNowOrWithTheBatch(
  tx: Executor,
  target: { id: string; tenantId: string },
  change: ChatWrite,
): Promise<{ row: LockedChat; queueWaitMs: number | null }> {
  const kept = deferChatChange(tx, target, change);
  if (kept) return { row: kept, queueWaitMs: null };
  await writeHeldChats(tx);
  const written = await writeChatChange(tx, target, change);
  holdRow(tx, written.row);
  return written;
}

/** chat.released, chat.assigned, chat.completed for what the transition did, in that order. */
function announce(
  deps: Pick<Deps, 'names' | 'now'>,
  target: { id: string; tenantId: string },
  effects: ChatEffects,
  assignment: { ended: number | null; opened: number | null; waitedMs: number },
  at: string,
  mode: AssignMode,
  handover: Handover | undefined,
): OutboxEntry[] {
  const { id: chatId, tenantId } = target;
  const out: OutboxEntry[] = [];
  const { released, assigned, completed } = effects;
  if (released && assignment.ended !== null) {
    const { operatorId, reason, note } = released;
    out.push(
      chatEvent(deps, 'chat.released', tenantId, chatId, {
        chatId,
        operatorId,
        assignmentId: assignment.ended,
        reason,
        ...(note ? { note } : {}),
        ...(handover ? { toOperatorId: handover.toOperatorId } : {}),
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
        ...(handover ? { fromOperatorId: handover.fromOperatorId } : {}),
        ...(handover?.note ? { note: handover.note } : {}),
        at,
      }),
    );
  }
  if (completed)
    out.push(chatEvent(deps, 'chat.completed', tenantId, chatId, { chatId, reason: completed.reason, at }));
  return out;
}
/**
 * The metrics of a committed transition: an assignment's end and how long it was held, the queue
 * wait of the one it opened (none for a transfer: `queueWaitMs` null, as the row records it), the
 * stuck sweep's action.
 */
function countsOf(
  effects: ChatEffects,
  assignment: { ended: number | null; opened: number | null; queueWaitMs: number | null; handleMs: number | null },
  mode: AssignMode,
): Count[] {
  const out: Count[] = [];
  if (effects.released && assignment.ended !== null) {
    const { reason } = effects.released;
    out.push({ metric: 'releases', labels: { reason } });
    if (assignment.handleMs !== null)
      out.push({ metric: 'handleTime', labels: { reason }, value: assignment.handleMs / 1000 });
  }
  if (assignment.opened !== null && assignment.queueWaitMs !== null)
    out.push({ metric: 'waitTime', labels: { mode }, value: assignment.queueWaitMs / 1000 });
  if (effects.flagged) out.push({ metric: 'stuck', labels: { action: 'flag' } });
  if (effects.completed?.reason === 'stuck') out.push({ metric: 'stuck', labels: { action: 'complete' } });
  return out;
}
