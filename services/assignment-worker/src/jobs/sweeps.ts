import { allTenantIds, asTenant } from '@switchboard/db';
import type { Deps } from '../deps.ts';
import { autoAssign, pushFreed } from '../handlers/auto-assign.ts';
import { changeChat } from '../handlers/change-chat.ts';
import { commitChatChanges } from '../handlers/effects.ts';
import { lockChat } from '../store/chat-row.ts';
import { dueIdle, dueStuck, waitingWithRoom } from '../store/due.ts';
import { settingsOf } from '../store/settings.ts';

/**
 * A sweep runs tenant by tenant, each read and each change under that tenant (Row-Level
 * Security): the sum of what `fn` did for each.
 */
async function eachTenant(deps: Deps, fn: (tenantId: string) => Promise<number>): Promise<number> {
  let n = 0;
  for (const tenantId of await allTenantIds(deps.db)) n += await fn(tenantId);
  return n;
}

/**
 * The idle rule: an assignment still open `idle_minutes` (the tenant's) after it began is
 * released and the chat requeued (reason `idle`); an operator's answer would have ended it. Checks
 * one assignment (its BullMQ job) or all that are due (the sweep), each under the chat's row lock.
 */
export function releaseIdle(
  deps: Deps,
  only?: { tenantId: string; chatId: string; assignmentId: number },
): Promise<number> {
  return only ? releaseIdleOf(deps, only.tenantId, only) : eachTenant(deps, (t) => releaseIdleOf(deps, t));
}

async function releaseIdleOf(
  deps: Deps,
  tenantId: string,
  only?: { chatId: string; assignmentId: number },
): Promise<number> {
  const now = deps.now();
  const due = await asTenant(deps.pool, tenantId, (tx) => dueIdle(tx, now, only));
  let released = 0;
  for (const row of due) {
    const cutoff = now.getTime() - row.idle_minutes * 60_000;
    const { done } = await commitChatChanges(deps, tenantId, async (tx) => {
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
export const handleStuck = (deps: Deps): Promise<number> => eachTenant(deps, (t) => handleStuckOf(deps, t));

async function handleStuckOf(deps: Deps, tenantId: string): Promise<number> {
  const now = deps.now();
  const due = await asTenant(deps.pool, tenantId, (tx) => dueStuck(tx, now));
  let changed = 0;
  for (const row of due) {
    const action = row.action === 'complete' ? 'complete' : 'flag';
    const { done } = await commitChatChanges(deps, tenantId, async (tx) => {
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
export const pushWaiting = (deps: Deps): Promise<number> => eachTenant(deps, (t) => pushWaitingOf(deps, t));

async function pushWaitingOf(deps: Deps, tenantId: string): Promise<number> {
  const waiting = await asTenant(deps.pool, tenantId, (tx) => waitingWithRoom(tx));
  let pushed = 0;
  for (const row of waiting) {
    const { applied } = await commitChatChanges(deps, tenantId, async (tx) => {
      const locked = await lockChat(tx, row.id, row.tenant_id);
      if (!locked) return { applied: [] };
      const settings = await settingsOf(tx, row.tenant_id);
      return { applied: await autoAssign(tx, deps, settings, locked, { countMiss: false }) };
    });
    if (applied.some((a) => a.effects.assigned)) pushed += 1;
  }
  return pushed;
}
