import type { Executor } from '@switchboard/db';
import { RequestError } from '@switchboard/platform';
import type { Deps } from '../deps.ts';
import { lockChat } from '../store/chat-row.ts';
import { lockOperator } from '../store/operators.ts';
import { settingsOf } from '../store/settings.ts';
import { changeChat } from './change-chat.ts';
import type { ChatChange } from './effects.ts';

/**
 * Hands an assigned chat from its operator to a named one in one transaction (seed 001's transfer,
 * seed 004's release_and_reassign_chat): the chat's row lock, then the target's (chats before
 * operators, as everywhere), the target's capacity read under its lock, a release (`transfer`,
 * with the note) and an assignment to the target through the state machine. Anything refused
 * throws, and the transaction rolls back: the chat never ends up unassigned halfway.
 * `chat.released` (naming the target) and `chat.assigned` (mode `transfer`, naming the origin)
 * go out together. The sync-worker moves the conversation on the assignment alone, from one agent
 * to the other, and announces `conversation.transferred` once: the two events may reach it in
 * either order, and the conversation never passes through `open`.
 */
export async function transferChat(
  tx: Executor,
  deps: Deps,
  target: { id: string; tenantId: string },
  to: { operatorId: string; note?: string | undefined },
): Promise<ChatChange[] | null> {
  const locked = await lockChat(tx, target.id, target.tenantId);
  if (!locked) return null;
  const from = locked.chat.assigneeId;
  if (locked.chat.state !== 'assigned' || from === null) throw conflict(`not_assigned: chat is ${locked.chat.state}`);
  if (from === to.operatorId) throw conflict(`already_assigned: ${to.operatorId} has it`);
  const op = await lockOperator(tx, target.tenantId, to.operatorId);
  if (!op) throw new RequestError(404, 'not_found', `no operator ${to.operatorId}: the agent desk has not reported it`);
  if (op.status !== 'online') throw conflict(`not_online: operator ${to.operatorId} is ${op.status}`);
  if (op.activeChats >= op.capacity) throw conflict(`at_capacity: operator ${to.operatorId} has ${op.activeChats}`);
  const now = deps.now();
  const note = to.note ? { note: to.note } : {};
  const handover = { fromOperatorId: from, toOperatorId: to.operatorId, ...note };
  const released = await changeChat(
    tx,
    deps,
    target,
    { kind: 'release', reason: 'transfer', at: now, ...note },
    { locked, handover },
  );
  if (!released.ok) throw conflict(released.reason ?? 'release refused');
  const assigned = await changeChat(
    tx,
    deps,
    target,
    { kind: 'assign', operatorId: to.operatorId, skills: op.skills, at: now },
    { handover },
  );
  if (!assigned.ok) throw conflict(assigned.reason ?? 'assignment refused');
  const assignmentId = assigned.row?.assignmentId;
  if (assignmentId != null) {
    const { idleMinutes } = await settingsOf(tx, target.tenantId);
    assigned.idle.push({
      ...{ tenantId: target.tenantId, chatId: target.id },
      assignmentId,
      delayMs: idleMinutes * 60_000,
    });
  }
  return [released, assigned];
}

const conflict = (message: string) => new RequestError(409, 'conflict', message);
