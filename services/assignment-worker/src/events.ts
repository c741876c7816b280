import {
  AgentDeskOperatorStatusChanged,
  agentDeskRoutingKeys,
  ConversationStatusChanged,
  decodeEvent,
  domainEventType,
  inboundType,
  MessageReceived,
  MessageSent,
} from '@switchboard/contracts';
import { claimInboxMany, type Executor } from '@switchboard/db';
import { dead, done, type Handler, skipped } from '@switchboard/platform';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { autoAssign, commit, fillOperator } from './assign.ts';
import { type Applied, CONSUMER, changeChat, type Deps } from './chats.ts';

/**
 * The queue's events → chat changes, each in one transaction with its inbox claim (a redelivered
 * event changes nothing) and its outbox.
 */
export function createEventHandler(deps: Deps): Handler {
  const resolveDesk = async (accountId: string) => {
    const r = await deps.db.execute<{ tenant_id: string }>(sql`
      select tenant_id from channels where provider = 'agent_desk' and account_id = ${accountId} and status = 'active'`);
    return r.rows[0]?.tenant_id ?? null;
  };
  return async (msg) => {
    const decoded = decodeEvent(msg.content);
    if (!decoded.ok) return dead(`invalid_envelope: ${decoded.reason}`);
    const e = decoded.event;
    const tenantId = e.tenantid;
    let apply: ((tx: Executor) => Promise<Applied[]>) | null = null;
    switch (e.type) {
      case domainEventType('message.received'): {
        const d = MessageReceived.safeParse(e.data);
        if (!d.success || !tenantId)
          return dead(`invalid_payload: ${d.success ? 'no tenantid' : z.prettifyError(d.error)}`);
        apply = async (tx) => {
          const a = await changeChat(
            tx,
            deps,
            { id: d.data.conversationId, tenantId },
            { kind: 'customer_message', at: new Date(d.data.receivedAt) },
          );
          if (!a.ok) return [];
          const auto =
            a.chat?.state === 'waiting_assignment' ? await autoAssign(tx, deps, tenantId, d.data.conversationId) : [];
          return [a, ...auto];
        };
        break;
      }
      case domainEventType('message.sent'): {
        const d = MessageSent.safeParse(e.data);
        if (!d.success || !tenantId)
          return dead(`invalid_payload: ${d.success ? 'no tenantid' : z.prettifyError(d.error)}`);
        if (d.data.author.kind !== 'operator') return skipped('not an operator reply');
        apply = async (tx) => {
          const a = await changeChat(
            tx,
            deps,
            { id: d.data.conversationId, tenantId },
            {
              kind: 'operator_reply',
              operatorId: d.data.author.id,
              at: new Date(d.data.sentAt),
            },
          );
          return a.ok ? [a] : [];
        };
        break;
      }
      case domainEventType('conversation.status.changed'): {
        const d = ConversationStatusChanged.safeParse(e.data);
        if (!d.success || !tenantId)
          return dead(`invalid_payload: ${d.success ? 'no tenantid' : z.prettifyError(d.error)}`);
        if (d.data.status !== 'closed') return skipped('only a close completes a chat');
        apply = async (tx) => {
          const exists = await tx.execute(sql`select 1 from chats where id = ${d.data.conversationId}`);
          if (exists.rows.length === 0) return [];
          const a = await changeChat(
            tx,
            deps,
            { id: d.data.conversationId, tenantId },
            {
              kind: 'complete',
              reason: 'conversation closed',
              at: new Date(d.data.at),
            },
          );
          return a.ok ? [a] : [];
        };
        break;
      }
      case inboundType(agentDeskRoutingKeys.operatorStatus): {
        const d = AgentDeskOperatorStatusChanged.safeParse(e.data);
        if (!d.success) return dead(`invalid_payload: ${z.prettifyError(d.error)}`);
        const tenant = await resolveDesk(d.data.accountId);
        if (!tenant) return dead(`unknown_channel: no active agent-desk account ${d.data.accountId}`);
        apply = (tx) => operatorStatus(tx, deps, tenant, d.data);
        break;
      }
      default:
        return dead(`unknown_type: no handler for ${e.type}`);
    }
    const fn = apply;
    const { fresh } = await commit(deps, async (tx) => {
      const claimed = await claimInboxMany(tx, CONSUMER, [e.id]);
      if (!claimed.has(e.id)) return { fresh: false, applied: [] as Applied[] };
      return { fresh: true, applied: await fn(tx) };
    });
    return fresh ? done : skipped('duplicate event');
  };
}

/**
 * Operator presence (and capacity, skills, name when given). Leaving `online` hands the operator's
 * chats back to the queue (reason `operator_offline`); coming online on an auto-assign tenant
 * fills its free capacity.
 */
async function operatorStatus(
  tx: Executor,
  deps: Deps,
  tenantId: string,
  d: AgentDeskOperatorStatusChanged,
): Promise<Applied[]> {
  await tx.execute(sql`
    insert into operators (tenant_id, id, display_name, status, capacity, skills, updated_at)
    values (${tenantId}, ${d.operatorId}, ${d.displayName ?? null}, ${d.status}, ${d.capacity ?? 3},
            ${sql.param(d.skills ?? [])}::text[], ${d.at})
    on conflict (tenant_id, id) do update set
      status = excluded.status,
      display_name = coalesce(${d.displayName ?? null}, operators.display_name),
      capacity = coalesce(${d.capacity ?? null}::int, operators.capacity),
      skills = coalesce(${d.skills ? sql.param(d.skills) : null}::text[], operators.skills),
      updated_at = excluded.updated_at
    where operators.updated_at <= excluded.updated_at`);
  if (d.status === 'online') return fillOperator(tx, deps, tenantId, d.operatorId);
  const held = await tx.execute<{ id: string }>(sql`
    select id from chats where tenant_id = ${tenantId} and state = 'assigned' and assignee_id = ${d.operatorId}`);
  const applied: Applied[] = [];
  for (const c of held.rows) {
    const a = await changeChat(
      tx,
      deps,
      { id: c.id, tenantId },
      { kind: 'release', reason: 'operator_offline', at: new Date(d.at) },
    );
    if (a.ok) applied.push(a, ...(await autoAssign(tx, deps, tenantId, c.id)));
  }
  return applied;
}
