import { eventId } from '@switchboard/contracts';
import { allTenantIds, asTenant } from '@switchboard/db';
import { decideStatusChange } from '@switchboard/domain';
import { unitOfWork } from '@switchboard/worker';
import { sql } from 'drizzle-orm';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import { writeSyncDecision } from './handlers/status-sync.ts';
import { lockConversationState } from './store/status-sync.ts';

/**
 * Closes chat conversations nobody has written in for `idleMs` (issue 3's lifecycle): through the
 * same decision as an agent's close, so their tickets close too and history and events follow.
 * Email threads are left to the lead state machine. Each conversation closes in its own short
 * transaction; `skip locked` lets a run that overlaps another (a slow one) skip its rows, and the
 * check is repeated under the row lock, so a message that arrived meanwhile keeps it open.
 */
export async function closeInactiveConversations(
  deps: Pick<Deps, 'db' | 'pool' | 'names' | 'now' | 'metrics' | 'logger' | 'beforeCommit'>,
  idleMs: number,
  limit = 500,
): Promise<number> {
  let closed = 0;
  // Tenant by tenant, each read and each close under its tenant (Row-Level Security).
  for (const tenantId of await allTenantIds(deps.db)) closed += await closeInactiveOf(deps, tenantId, idleMs, limit);
  if (closed > 0) deps.logger.info({ closed, idleMs }, 'closed inactive conversations');
  return closed;
}

async function closeInactiveOf(
  deps: Pick<Deps, 'pool' | 'names' | 'now' | 'metrics' | 'beforeCommit'>,
  tenantId: string,
  idleMs: number,
  limit: number,
): Promise<number> {
  const cutoff = new Date(deps.now().getTime() - idleMs);
  const due = await asTenant(deps.pool, tenantId, (tx) =>
    tx.execute<{ id: string; tenant_id: string }>(sql`
    select id, tenant_id from conversations
     where status <> 'closed' and provider <> 'mailgun' and last_activity_at < ${cutoff.toISOString()}
     order by last_activity_at limit ${limit}`),
  );
  let closed = 0;
  for (const c of due.rows) {
    const did = await unitOfWork(
      deps,
      async ({ tx, record }) => {
        const still = await tx.execute<{ id: string }>(sql`
        select id from conversations
         where id = ${c.id} and status <> 'closed' and last_activity_at < ${cutoff.toISOString()}
           for update skip locked`);
        if (still.rows.length === 0) return null;
        const state = await lockConversationState(tx, c.tenant_id, c.id);
        if (!state) return null;
        const minutes = Math.round(idleMs / 60_000);
        const decision = decideStatusChange(
          { conversation: { id: c.id, status: state.conversation.status }, tickets: state.tickets },
          { kind: 'conversation', status: 'closed', source: 'system', reason: `no activity for ${minutes} minutes` },
        );
        if (!decision.ok || decision.changes.length === 0) return null;
        // No inbound event caused this: the cause is the timer, named after the state it closed.
        const cause = eventId('inactivity', c.id, String(state.conversation.version));
        const effects = await writeSyncDecision(tx, deps, state, decision, { eventId: cause, at: deps.now() });
        record(effects);
        return true;
      },
      { tenantId },
    );
    if (did) closed += 1;
  }
  return closed;
}

/**
 * The sweep as configured: `CONVERSATION_INACTIVITY_CLOSE_MINUTES` (0: off), checked every
 * `INACTIVITY_CHECK_EVERY_MS` once across replicas (jobs/schedule.ts); off, it is never scheduled.
 */
export const inactivitySweep = (
  config: Pick<Config, 'CONVERSATION_INACTIVITY_CLOSE_MINUTES' | 'INACTIVITY_CHECK_EVERY_MS'>,
) => ({
  idleMs: config.CONVERSATION_INACTIVITY_CLOSE_MINUTES * 60_000,
  everyMs: config.CONVERSATION_INACTIVITY_CLOSE_MINUTES > 0 ? config.INACTIVITY_CHECK_EVERY_MS : 0,
});
