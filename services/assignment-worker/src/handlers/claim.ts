import { randomUUID } from 'node:crypto';
import { domainOutboxEntry, type Executor, type OutboxEntry } from '@switchboard/db';
import { committed } from '@switchboard/worker';
import { type Deps, SOURCE } from '../deps.ts';
import type { Count } from '../metrics.ts';
import { type ClaimQuery, type ClaimRow, claimIn, claimInTenant, whyNoClaim } from '../store/claim.ts';
import { type ChatChange, effectsOf, nothing } from './effects.ts';

export type NextChat =
  | { outcome: 'assigned'; chatId: string; assignmentId: number }
  | { outcome: 'none_waiting' | 'at_capacity' | 'not_online' | 'unknown_operator' };

/**
 * `POST /operators/:id/next-chat`: the oldest waiting chat this operator may take, claimed by one
 * prepared statement that also appends its `chat.assigned` (built here ahead, by the contracts'
 * code) to the outbox, as a transaction of its own under the tenant (Row-Level Security) in one
 * round trip: BEGIN, the tenant, the claim and COMMIT go as one message (store/claim.ts). The
 * operator's row lock serializes its claims and, read through that lock, its load is current, so
 * capacity holds; `skip locked` lets 200 operators claim at once without two getting one chat or
 * waiting on each other. A claim that found nothing says why from the same locked row. Once it
 * committed, its counts are recorded and the idle check is scheduled in the background (shutdown
 * drains it).
 */
export async function nextChat(deps: Deps, tenantId: string, operatorId: string): Promise<NextChat> {
  const q: ClaimQuery = { tenantId, operatorId, mode: 'pull', at: deps.now().toISOString(), exclude: [] };
  const eventId = randomUUID();
  const ahead = assignedEvent(deps, q, { chatId: NOT_YET_CLAIMED, assignmentId: 1, waitedMs: 0 }, eventId);
  const row = await claimInTenant(q, deps.pool, ahead);
  const claimed = claimedFrom(deps, row, q, eventId);
  const result: NextChat = claimed
    ? { outcome: 'assigned', chatId: claimed.chatId, assignmentId: Number(row?.assignment_id) }
    : { outcome: whyNoClaim(row) };
  const counts: Count[] = [{ metric: 'assignments', labels: { mode: 'pull', outcome: result.outcome } }];
  if (row?.held_last) counts.push({ metric: 'sameOperatorExcluded', labels: { rule: 'last_replied' } });
  if (row?.held_idle) counts.push({ metric: 'sameOperatorExcluded', labels: { rule: 'idle' } });
  // Its `chat.assigned` is in the outbox already: the statement appended it.
  const after = claimed ? effectsOf(deps, [claimed], { background: true }) : { counts: [], afterCommit: [] };
  await committed(deps.metrics, { counts: [...counts, ...after.counts], afterCommit: after.afterCommit ?? [] });
  return result;
}

/** Stands for the chat in the event built ahead of the claim; the statement writes the chat it claimed. */
const NOT_YET_CLAIMED = '00000000-0000-0000-0000-000000000000';

/**
 * `chat.assigned` for a claim, by the contracts' code. `id`: chosen before the claim when the
 * claim's statement appends the event itself.
 */
export function assignedEvent(
  deps: Pick<Deps, 'names'>,
  q: ClaimQuery,
  claim: { chatId: string; assignmentId: number; waitedMs: number },
  id?: string,
): OutboxEntry {
  const { tenantId, operatorId, mode, at } = q;
  return domainOutboxEntry({
    ...(id === undefined ? {} : { id }),
    exchange: deps.names.events,
    source: SOURCE,
    key: 'chat.assigned',
    tenantId,
    subject: claim.chatId,
    time: new Date(at),
    data: { ...claim, operatorId, mode, at },
  });
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

/**
 * The claim's row as a chat change: `chat.assigned` built by the contracts' code (under `eventId`
 * when the statement appended it already), its wait, its idle check.
 */
export function claimedFrom(
  deps: Pick<Deps, 'names'>,
  row: ClaimRow | undefined,
  q: ClaimQuery,
  eventId?: string,
): ChatChange | null {
  if (!row?.chat_id || row.assignment_id === null) return null;
  const { tenantId, operatorId, mode } = q;
  const chatId = row.chat_id;
  const assignmentId = Number(row.assignment_id);
  const waitedMs = Number(row.waited_ms ?? 0);
  const assigned = assignedEvent(deps, q, { chatId, assignmentId, waitedMs }, eventId);
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
