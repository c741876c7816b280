import type { Executor } from '@switchboard/db';
import type { Deps } from '../deps.ts';
import { forgetHeldChats, type LockedChat } from '../store/chat-row.ts';
import { writeHeldChats } from '../store/chats.ts';
import { lockAutoAssign, pickOperatorFor } from '../store/operators.ts';
import { type Settings, settingsOnce } from '../store/settings.ts';
import { changeChat } from './change-chat.ts';
import { claimFor } from './claim.ts';
import { type ChatChange, nothing } from './effects.ts';

/**
 * Auto-assign (per tenant): a waiting chat goes to the online operator with the most free
 * capacity, the least recently assigned first, among those it fits (queue) and that no rule bars.
 * `locked` is the chat as this transaction holds it (locked, or just written, by the caller).
 * Lock order: the chat, then the tenant's auto-assign lock, then the operator with `skip locked`
 * (chats before operators everywhere; nothing waits while holding the tenant lock). The tenant
 * lock makes pushes decide one after the other on current loads: ordered on a snapshot taken
 * while another push was committing, two pushes could both pick the operator that had been the
 * freest. `skip locked` passes over an operator a pull or a release is changing right now.
 */
export async function autoAssign(
  tx: Executor,
  deps: Deps,
  settings: Settings,
  locked: LockedChat,
  opts: { exclude?: string | undefined; countMiss?: boolean } = {},
): Promise<ChatChange[]> {
  if (locked.chat.state !== 'waiting_assignment') return [];
  const { id: chatId, tenantId } = locked;
  await lockAutoAssign(tx, tenantId);
  const operator = await pickOperatorFor(tx, tenantId, chatId, opts.exclude);
  if (!operator) {
    if (opts.countMiss === false) return [];
    const miss = { metric: 'assignments', labels: { mode: 'auto', outcome: 'none_available' } } as const;
    return [nothing({ id: chatId, tenantId }, { ok: false, reason: 'none_available', counts: [miss] })];
  }
  const a = await changeChat(
    tx,
    deps,
    { id: chatId, tenantId },
    { kind: 'assign', operatorId: operator.id, skills: operator.skills, at: deps.now() },
    { mode: 'auto', locked },
  );
  a.counts.push({ metric: 'assignments', labels: { mode: 'auto', outcome: a.ok ? 'assigned' : 'refused' } });
  const assignmentId = a.effects.assigned ? a.row?.assignmentId : null;
  if (assignmentId != null) a.idle.push({ tenantId, chatId, assignmentId, delayMs: settings.idleMinutes * 60_000 });
  return [a];
}

/** Fills an operator's free capacity from the queue, oldest first (never with the chats in `exclude`). */
export async function fillOperator(
  tx: Executor,
  deps: Deps,
  settings: Settings,
  tenantId: string,
  operatorId: string,
  exclude: string[] = [],
): Promise<ChatChange[]> {
  const applied: ChatChange[] = [];
  for (let i = 0; i < 100; i++) {
    const claimed = await claimFor(tx, deps, tenantId, operatorId, { exclude, idleMinutes: settings.idleMinutes });
    if (!claimed) break;
    claimed.counts.push({ metric: 'assignments', labels: { mode: 'auto', outcome: 'assigned' } });
    applied.push(claimed);
  }
  return applied;
}

/**
 * Auto-assign tenants, after a change in the same transaction: what it freed is handed out. A
 * chat that became waiting goes to the best operator other than the one that just released it;
 * an operator whose chat left it (reply, release, completion) is filled from the queue, oldest
 * first, but not with a chat it just released. The tenant's settings are read here, once for the
 * transaction (a batch's events share the read), and passed down.
 */
export async function pushFreed(
  tx: Executor,
  deps: Deps,
  tenantId: string,
  changes: ChatChange[],
): Promise<ChatChange[]> {
  const done = changes.filter((a) => a.ok);
  if (done.length === 0) return [];
  const settings = await settingsOnce(tx, tenantId);
  if (!settings.autoAssign) return [];
  // A push may claim any waiting chat, one the batch locked ahead included: it reads the chats
  // from the table, with the batch's changes so far written.
  await writeHeldChats(tx);
  forgetHeldChats(tx);
  const out: ChatChange[] = [];
  for (const a of done) {
    // The row as the change wrote it: this transaction still holds its lock.
    if (a.row?.chat.state !== 'waiting_assignment') continue;
    out.push(...(await autoAssign(tx, deps, settings, a.row, { exclude: a.effects.released?.operatorId })));
  }
  const freed = new Set(done.flatMap((a) => (a.effects.released ? [a.effects.released.operatorId] : [])));
  for (const operatorId of freed) {
    const released = done.filter((a) => a.effects.released?.operatorId === operatorId).map((a) => a.chatId);
    out.push(...(await fillOperator(tx, deps, settings, tenantId, operatorId, released)));
  }
  return out;
}
