import { createEvent, type DomainEventData, type DomainEventKey, domainEventType } from '@switchboard/contracts';
import type { Database, Executor, OutboxEntry } from '@switchboard/db';
import { applyChatEvent, type Chat, type ChatEvent, type ChatState } from '@switchboard/domain';
import type { Logger, Topology } from '@switchboard/platform';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Metrics } from './metrics.ts';

export const CONSUMER = 'assignment-worker';
export const SOURCE = '/switchboard/assignment-worker';

/** Scheduling of per-assignment idle checks (BullMQ in production). */
export interface IdleTimers {
  schedule(check: { tenantId: string; chatId: string; assignmentId: number }, delayMs: number): Promise<void>;
}

export interface Deps {
  db: Database;
  pool: pg.Pool;
  names: Topology['names'];
  metrics: Metrics;
  logger: Logger;
  now: () => Date;
  timers: IdleTimers;
}

export interface Settings {
  autoAssign: boolean;
  idleMinutes: number;
  stuckHours: number;
  stuckAction: 'complete' | 'flag';
}
export const DEFAULT_SETTINGS: Settings = { autoAssign: false, idleMinutes: 10, stuckHours: 24, stuckAction: 'flag' };

export async function settingsOf(tx: Executor, tenantId: string): Promise<Settings> {
  const r = await tx.execute<{
    auto_assign: boolean;
    idle_minutes: number;
    stuck_hours: number;
    stuck_action: string;
  }>(sql`
    select auto_assign, idle_minutes, stuck_hours, stuck_action from assignment_settings where tenant_id = ${tenantId}`);
  const row = r.rows[0];
  if (!row) return DEFAULT_SETTINGS;
  return {
    autoAssign: row.auto_assign,
    idleMinutes: row.idle_minutes,
    stuckHours: row.stuck_hours,
    stuckAction: row.stuck_action === 'complete' ? 'complete' : 'flag',
  };
}

type ChatRow = {
  id: string;
  tenant_id: string;
  state: ChatState;
  assignee_id: string | null;
  assignment_id: number | null;
  last_operator_id: string | null;
  operator_replied_at: Date | null;
  last_customer_message_at: Date | null;
  waiting_since: Date | null;
  assigned_at: Date | null;
  version: number;
};

export interface LockedChat {
  id: string;
  tenantId: string;
  chat: Chat;
  assignmentId: number | null;
  assignedAt: Date | null;
  version: number;
}

const toDate = (v: Date | string | null) => (v === null ? null : new Date(v));

/** The chat row-locked (the Postgres guard for every change to it), or null if the queue has not seen it. */
export async function lockChat(tx: Executor, id: string): Promise<LockedChat | null> {
  const r = await tx.execute<ChatRow>(sql`
    select id, tenant_id, state, assignee_id, assignment_id, last_operator_id, operator_replied_at,
           last_customer_message_at, waiting_since, assigned_at, version
      from chats where id = ${id} for update`);
  const row = r.rows[0];
  if (!row) return null;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    assignmentId: row.assignment_id,
    assignedAt: toDate(row.assigned_at),
    version: row.version,
    chat: {
      state: row.state,
      assigneeId: row.assignee_id,
      lastOperatorId: row.last_operator_id,
      operatorRepliedAt: toDate(row.operator_replied_at),
      lastCustomerMessageAt: toDate(row.last_customer_message_at),
      waitingSince: toDate(row.waiting_since),
    },
  };
}

export function chatEvent<K extends DomainEventKey>(
  deps: Pick<Deps, 'names' | 'now'>,
  key: K,
  tenantId: string,
  chatId: string,
  data: DomainEventData<K>,
): OutboxEntry {
  return {
    exchange: deps.names.events,
    routingKey: key,
    event: createEvent({
      source: SOURCE,
      type: domainEventType(key),
      subject: chatId,
      tenantid: tenantId,
      time: deps.now(),
      data,
    }),
  };
}

export interface Applied {
  ok: boolean;
  reason?: string;
  chat?: Chat;
  outbox: OutboxEntry[];
  /** Idle checks to schedule once the transaction committed. */
  idle: Array<{ tenantId: string; chatId: string; assignmentId: number; delayMs: number }>;
}

/**
 * Applies one chat event under the chat's row lock: the state machine decides, this writes the
 * chat (against the version it read), opens or closes the assignment, and returns the events.
 */
export async function changeChat(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now' | 'metrics'>,
  target: { id: string; tenantId: string },
  e: ChatEvent,
  opts: { mode?: 'pull' | 'auto' } = {},
): Promise<Applied> {
  const locked = await lockChat(tx, target.id);
  if (locked && locked.tenantId !== target.tenantId) return { ok: false, reason: 'unknown_chat', outbox: [], idle: [] };
  const t = applyChatEvent(locked?.chat ?? null, e);
  if (!t.ok) return { ok: false, reason: t.reason, outbox: [], idle: [] };
  if (!t.changed) return { ok: true, chat: t.chat, outbox: [], idle: [] };
  const at = e.at;
  const outbox: OutboxEntry[] = [];
  const idle: Applied['idle'] = [];
  let assignmentId = locked?.assignmentId ?? null;
  let assignedAt = locked?.assignedAt ?? null;

  if (t.effects.released && assignmentId !== null) {
    await tx.execute(sql`
      update chat_assignments set ended_at = ${at.toISOString()}, end_reason = ${t.effects.released.reason}
       where id = ${assignmentId} and ended_at is null`);
    deps.metrics.releases.inc({ reason: t.effects.released.reason });
    outbox.push(
      chatEvent(deps, 'chat.released', target.tenantId, target.id, {
        chatId: target.id,
        operatorId: t.effects.released.operatorId,
        assignmentId,
        reason: t.effects.released.reason,
        at: at.toISOString(),
      }),
    );
    assignmentId = null;
    assignedAt = null;
  }

  const c = t.chat;
  const params = {
    state: c.state,
    assignee: c.assigneeId,
    lastOperator: c.lastOperatorId,
    replied: c.operatorRepliedAt?.toISOString() ?? null,
    customer: c.lastCustomerMessageAt?.toISOString() ?? null,
    waiting: c.waitingSince?.toISOString() ?? null,
  };
  if (!locked) {
    await tx.execute(sql`
      insert into chats (id, tenant_id, state, assignee_id, last_operator_id, operator_replied_at, last_customer_message_at, waiting_since, updated_at)
      values (${target.id}, ${target.tenantId}, ${params.state}, ${params.assignee}, ${params.lastOperator}, ${params.replied}::timestamptz,
              ${params.customer}::timestamptz, ${params.waiting}::timestamptz, ${at.toISOString()})`);
  } else {
    const r = await tx.execute(sql`
      update chats set state = ${params.state}, assignee_id = ${params.assignee}, last_operator_id = ${params.lastOperator},
             operator_replied_at = ${params.replied}::timestamptz, last_customer_message_at = ${params.customer}::timestamptz,
             waiting_since = ${params.waiting}::timestamptz, assignment_id = ${assignmentId},
             assigned_at = ${assignedAt?.toISOString() ?? null}::timestamptz,
             completed_at = case when ${params.state} = 'completed' then ${at.toISOString()}::timestamptz else completed_at end,
             version = version + 1, updated_at = ${at.toISOString()}
       where id = ${target.id} and version = ${locked.version}`);
    if (r.rowCount !== 1) throw new Error(`chat ${target.id} changed under its row lock`);
  }

  if (t.effects.assigned) {
    const mode = opts.mode ?? 'pull';
    const a = await tx.execute<{ id: number }>(sql`
      insert into chat_assignments (tenant_id, chat_id, operator_id, mode, assigned_at)
      values (${target.tenantId}, ${target.id}, ${t.effects.assigned.operatorId}, ${mode}, ${at.toISOString()})
      returning id`);
    const id = Number(a.rows[0]?.id);
    await tx.execute(sql`
      update chats set assignment_id = ${id}, assigned_at = ${at.toISOString()} where id = ${target.id}`);
    await tx.execute(sql`
      update operators set last_assigned_at = ${at.toISOString()}
       where tenant_id = ${target.tenantId} and id = ${t.effects.assigned.operatorId}`);
    const waitedMs = Math.max(0, at.getTime() - (c.waitingSince?.getTime() ?? at.getTime()));
    deps.metrics.waitTime.observe({ mode }, waitedMs / 1000);
    outbox.push(
      chatEvent(deps, 'chat.assigned', target.tenantId, target.id, {
        chatId: target.id,
        operatorId: t.effects.assigned.operatorId,
        assignmentId: id,
        mode,
        waitedMs: Math.round(waitedMs),
        at: at.toISOString(),
      }),
    );
    const settings = await settingsOf(tx, target.tenantId);
    idle.push({
      tenantId: target.tenantId,
      chatId: target.id,
      assignmentId: id,
      delayMs: settings.idleMinutes * 60_000,
    });
  }
  if (t.effects.completed) {
    outbox.push(
      chatEvent(deps, 'chat.completed', target.tenantId, target.id, {
        chatId: target.id,
        reason: t.effects.completed.reason,
        at: at.toISOString(),
      }),
    );
  }
  return { ok: true, chat: c, outbox, idle };
}
