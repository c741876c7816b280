import type { Executor } from '@switchboard/db';
import { unitOfWork } from '@switchboard/worker';
import type { Deps } from '../deps.ts';
import type { Count } from '../metrics.ts';
import { type ClaimQuery, type ClaimRow, claimIn, claimPrepared, whyNoClaim } from '../store/claim.ts';
import { type ChatChange, chatEvent, effectsOf, nothing } from './effects.ts';

export type NextChat =
  | { outcome: 'assigned'; chatId: string; assignmentId: number }
  | { outcome: 'none_waiting' | 'at_capacity' | 'not_online' | 'unknown_operator' };

/**
 * `POST /operators/:id/next-chat`: the oldest waiting chat this operator may take, claimed by one
 * prepared statement in one short transaction with its `chat.assigned` event: the operator's row
 * lock serializes its claims and, read through that lock, its load is current, so capacity holds;
 * `skip locked` lets 200 operators claim at once without two getting one chat or waiting on each
 * other. The idle check is scheduled in the background once it committed (shutdown drains it).
 */
export async function nextChat(deps: Deps, tenantId: string, operatorId: string): Promise<NextChat> {
  const q: ClaimQuery = { tenantId, operatorId, mode: 'pull', at: deps.now().toISOString(), exclude: [] };
  return unitOfWork(
    deps,
    async (unit) => {
      const row = await claimPrepared(unit.client, q);
      const claimed = claimedFrom(deps, row, q);
      const result: NextChat = claimed
        ? { outcome: 'assigned', chatId: claimed.chatId, assignmentId: Number(row?.assignment_id) }
        : { outcome: await whyNoClaim(unit.tx, tenantId, operatorId) };
      const counts: Count[] = [{ metric: 'assignments', labels: { mode: 'pull', outcome: result.outcome } }];
      if (row?.held_last) counts.push({ metric: 'sameOperatorExcluded', labels: { rule: 'last_replied' } });
      if (row?.held_idle) counts.push({ metric: 'sameOperatorExcluded', labels: { rule: 'idle' } });
      unit.record({ counts });
      if (claimed) unit.record(effectsOf(deps, [claimed], { background: true }));
      return result;
    },
    { tenantId },
  );
}

/**
 * Auto-assign's claim for `operatorId`, in the caller's transaction `ex`, never with a chat in
 * `exclude` (the one it just released). `idleMinutes`: the tenant's, as the caller read them for
 * the transaction. Null: nothing it may take waits.
 */
export async function claimFor(
  ex: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  tenantId: string,
  operatorId: string,
  opts: { exclude?: string[]; idleMinutes: number },
): Promise<ChatChange | null> {
  const q: ClaimQuery = {
    tenantId,
    operatorId,
    mode: 'auto',
    at: deps.now().toISOString(),
    exclude: opts.exclude ?? [],
    idleMinutes: opts.idleMinutes,
  };
  return claimedFrom(deps, await claimIn(ex, q), q);
}

/** The claim's row as a chat change: `chat.assigned` built by the contracts' code, its wait, its idle check. */
function claimedFrom(deps: Pick<Deps, 'names' | 'now'>, row: ClaimRow | undefined, q: ClaimQuery): ChatChange | null {
  if (!row?.chat_id || row.assignment_id === null) return null;
  const { tenantId, operatorId, mode, at } = q;
  const chatId = row.chat_id;
  const assignmentId = Number(row.assignment_id);
  const waitedMs = Number(row.waited_ms ?? 0);
  const assigned = chatEvent(deps, 'chat.assigned', tenantId, chatId, {
    chatId,
    operatorId,
    assignmentId,
    mode,
    waitedMs,
    at,
  });
  return nothing(
    { id: chatId, tenantId },
    {
      effects: { assigned: { operatorId } },
      outbox: [assigned],
      idle: [{ tenantId, chatId, assignmentId, delayMs: row.idle_minutes * 60_000 }],
      counts: [{ metric: 'waitTime', labels: { mode }, value: waitedMs / 1000 }],
    },
  );
}
