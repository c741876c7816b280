import type { AgentDeskOperatorStatusChanged } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { boundSenderTime } from '@switchboard/domain';
import { sql } from 'drizzle-orm';
import type { Applied } from './applied.ts';
import { fillOperator, pushFreed } from './auto-assign.ts';
import { lockAssignedTo } from './chat-row.ts';
import { changeChat } from './chat-store.ts';
import { type Deps, settingsOf } from './deps.ts';

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
): Promise<Applied[]> {
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
  const released: Applied[] = [];
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

/** Writes the report unless a newer one is stored; true if it was applied. */
async function upsertOperator(tx: Executor, tenantId: string, d: AgentDeskOperatorStatusChanged): Promise<boolean> {
  const r = await tx.execute(sql`
    insert into operators (tenant_id, id, display_name, status, capacity, skills, updated_at)
    values (${tenantId}, ${d.operatorId}, ${d.displayName ?? null}, ${d.status}, ${d.capacity ?? 3},
            ${sql.param(d.skills ?? [])}::text[], ${d.at})
    on conflict (tenant_id, id) do update set
      status = excluded.status,
      display_name = coalesce(${d.displayName ?? null}, operators.display_name),
      capacity = coalesce(${d.capacity ?? null}::int, operators.capacity),
      skills = coalesce(${d.skills ? sql.param(d.skills) : null}::text[], operators.skills),
      updated_at = excluded.updated_at
    where operators.updated_at <= excluded.updated_at
    returning 1`);
  return r.rows.length === 1;
}
