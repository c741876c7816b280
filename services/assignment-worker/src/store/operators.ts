import type { AgentDeskOperatorStatusChanged } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { sql } from 'drizzle-orm';
import { fitsQueue, idleFrom, lastRepliedBy } from './claim.ts';

/** Serializes a tenant's auto-assign pushes for the rest of the transaction. */
export async function lockAutoAssign(tx: Executor, tenantId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`auto-assign:${tenantId}`}, 0))`);
}

/**
 * Auto-assign's pick for a chat: the online operator with the most free capacity, the least
 * recently assigned first, among those the chat fits (queue) and that no rule bars, row-locked
 * `skip locked` (never `exclude`). Null: none.
 */
export async function pickOperatorFor(
  tx: Executor,
  tenantId: string,
  chatId: string,
  exclude: string | undefined,
): Promise<{ id: string; skills: string[] } | null> {
  const c = sql.raw('c');
  const o = sql.raw('o.id');
  const r = await tx.execute<{ id: string; skills: string[] }>(sql`
    select o.id, o.skills from operators o
      join chats c on c.id = ${chatId} and c.tenant_id = ${tenantId}
     where o.tenant_id = ${tenantId} and o.status = 'online' and o.active_chats < o.capacity
       and ${fitsQueue(c, sql.raw('o.skills'))}
       and not ${lastRepliedBy(c, o)} and not ${idleFrom(c, o)}
       ${exclude ? sql`and o.id <> ${exclude}` : sql``}
     order by o.capacity - o.active_chats desc, o.last_assigned_at asc nulls first, o.id
     limit 1
       for update of o skip locked`);
  return r.rows[0] ?? null;
}

/** Writes an operator's presence report unless a newer one is stored; true if it was applied. */
export async function upsertOperator(
  tx: Executor,
  tenantId: string,
  d: AgentDeskOperatorStatusChanged,
): Promise<boolean> {
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

/** An operator's row, locked for the rest of the transaction (after the chat's: chats first, everywhere). */
export async function lockOperator(
  tx: Executor,
  tenantId: string,
  operatorId: string,
): Promise<{ status: string; capacity: number; activeChats: number; skills: string[] } | null> {
  const r = await tx.execute<{ status: string; capacity: number; active_chats: number; skills: string[] }>(sql`
    select status, capacity, active_chats, skills from operators
     where tenant_id = ${tenantId} and id = ${operatorId} for update`);
  const o = r.rows[0];
  return o ? { status: o.status, capacity: o.capacity, activeChats: o.active_chats, skills: o.skills } : null;
}
