import { AgentDeskOperatorStatusChanged } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { boundSenderTime } from '@switchboard/domain';
import { activeChannel } from '@switchboard/worker';
import type { Deps } from '../deps.ts';
import { lockAssignedTo } from '../store/chat-row.ts';
import { upsertOperator } from '../store/operators.ts';
import { settingsOf } from '../store/settings.ts';
import { fillOperator, pushFreed } from './auto-assign.ts';
import { changeChat } from './change-chat.ts';
import type { ChatChange } from './effects.ts';
import { appliedOf, eachItem, route, type TenantScoped } from './route.ts';

/**
 * The agent desk's presence reports, for the tenant whose active agent-desk channel claims the
 * account: resolved by the worker kit's channel resolver (the sync-worker's), so an unknown or
 * disabled account is parked, as the sync-worker parks it.
 */
export const operatorStatusRoute = route({
  schema: AgentDeskOperatorStatusChanged,
  prepare: async (deps, event) => {
    const channel = await activeChannel(deps, 'agent_desk', event.data.accountId);
    return channel.ok ? { ok: true, value: { tenantId: channel.value.tenantId } } : channel;
  },
  lockKeys: () => [],
  apply: eachItem<AgentDeskOperatorStatusChanged, TenantScoped>(async (tx, deps, { event, value }) =>
    appliedOf(deps, await operatorStatus(tx, deps, value.tenantId, event.data)),
  ),
});

/**
 * Operator presence (and capacity, skills, name when given), applied only if newer than what is
 * stored. Leaving `online` hands the operator's chats back to the queue (reason
 * `operator_offline`); coming online on an auto-assign tenant fills its free capacity. A stale
 * report changes nothing at all.
 *
 * Lock order, as everywhere: the chats first, then the operator's row (a reply or a release
 * locks its chat, then the operator through the load trigger). Chats assigned while this waited
 * for the operator's row are locked `skip locked`: holding the operator, it must not wait on a
 * chat. One it skips is being changed by another transaction right now; if that does not end the
 * assignment, its idle check will.
 */
export async function operatorStatus(
  tx: Executor,
  deps: Deps,
  tenantId: string,
  report: AgentDeskOperatorStatusChanged,
): Promise<ChatChange[]> {
  // Presence is ordered by the desk's time: a report dated ahead of our clock would outrank
  // every later real one (an operator left online), so it is bounded (see boundSenderTime).
  const d = { ...report, at: boundSenderTime(report.at, deps.now()).at };
  const leaving = d.status !== 'online';
  const held = leaving ? await lockAssignedTo(tx, tenantId, d.operatorId) : [];
  if (!(await upsertOperator(tx, tenantId, d))) return [];
  if (!leaving) {
    const settings = await settingsOf(tx, tenantId);
    return settings.autoAssign ? fillOperator(tx, deps, settings, tenantId, d.operatorId) : [];
  }
  const late = await lockAssignedTo(tx, tenantId, d.operatorId, {
    skipLocked: true,
    except: held.map((c) => c.id),
  });
  const released: ChatChange[] = [];
  for (const locked of [...held, ...late]) {
    const target = { id: locked.id, tenantId };
    released.push(
      await changeChat(
        tx,
        deps,
        target,
        { kind: 'release', reason: 'operator_offline', at: new Date(d.at) },
        { locked },
      ),
    );
  }
  return [...released, ...(await pushFreed(tx, deps, tenantId, released))];
}
