import type { DomainEventData, DomainEventKey } from '@switchboard/contracts';
import { type Database, domainOutboxEntry, type Executor, type OutboxEntry } from '@switchboard/db';
import { applyChatEvent, type Chat, type ChatEvent, type ChatState } from '@switchboard/domain';
import type { Logger, Topology } from '@switchboard/platform';
import { type SQL, sql } from 'drizzle-orm';
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

const CHAT_COLUMNS = sql.raw(`id, tenant_id, state, assignee_id, assignment_id, last_operator_id, operator_replied_at,
  last_customer_message_at, waiting_since, assigned_at, version`);

export function toLockedChat(row: ChatRow): LockedChat {
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

/** The chat row-locked (the Postgres guard for every change to it), or null if the queue has not seen it. */
export async function lockChat(tx: Executor, id: string): Promise<LockedChat | null> {
  const r = await tx.execute<ChatRow>(sql`select ${CHAT_COLUMNS} from chats where id = ${id} for update`);
  const row = r.rows[0];
  return row ? toLockedChat(row) : null;
}

/** A domain event about a chat for the outbox (subject: the chat). */
export const chatEvent = <K extends DomainEventKey>(
  deps: Pick<Deps, 'names' | 'now'>,
  key: K,
  tenantId: string,
  chatId: string,
  data: DomainEventData<K>,
): OutboxEntry =>
  domainOutboxEntry({
    exchange: deps.names.events,
    source: SOURCE,
    key,
    tenantId,
    subject: chatId,
    time: deps.now(),
    data,
  });

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
 * `opts.locked` is the chat as the caller already locked it (a claim's `skip locked` row);
 * `opts.idleMinutes` spares the settings lookup when the caller has read them.
 */
export async function changeChat(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now' | 'metrics'>,
  target: { id: string; tenantId: string },
  e: ChatEvent,
  opts: { mode?: 'pull' | 'auto'; locked?: LockedChat; idleMinutes?: number } = {},
): Promise<Applied> {
  const locked = opts.locked ?? (await lockChat(tx, target.id));
  if (locked && locked.tenantId !== target.tenantId) return { ok: false, reason: 'unknown_chat', outbox: [], idle: [] };
  const t = applyChatEvent(locked?.chat ?? null, e);
  if (!t.ok) return { ok: false, reason: t.reason, outbox: [], idle: [] };
  if (!t.changed) return { ok: true, chat: t.chat, outbox: [], idle: [] };
  const at = e.at.toISOString();
  const outbox: OutboxEntry[] = [];
  const idle: Applied['idle'] = [];
  // The whole change is one statement: the assignment closed or opened in data-modifying CTEs,
  // and the chat written with the new assignment's id (its trigger moves the operators' loads).
  const ctes: SQL[] = [];
  let assignmentId: SQL = sql`${locked?.assignmentId ?? null}::bigint`;
  let assignedAt: SQL = sql`${locked?.assignedAt?.toISOString() ?? null}::timestamptz`;

  const released = t.effects.released;
  if (released && locked?.assignmentId != null) {
    ctes.push(sql`closed as (
      update chat_assignments set ended_at = ${at}, end_reason = ${released.reason}
       where id = ${locked.assignmentId} and ended_at is null)`);
    deps.metrics.releases.inc({ reason: released.reason });
    outbox.push(
      chatEvent(deps, 'chat.released', target.tenantId, target.id, {
        chatId: target.id,
        operatorId: released.operatorId,
        assignmentId: locked.assignmentId,
        reason: released.reason,
        at,
      }),
    );
    assignmentId = sql`null::bigint`;
    assignedAt = sql`null::timestamptz`;
  }
  const assigned = t.effects.assigned;
  const mode = opts.mode ?? 'pull';
  if (assigned) {
    ctes.push(sql`opened as (
      insert into chat_assignments (tenant_id, chat_id, operator_id, mode, assigned_at)
      values (${target.tenantId}, ${target.id}, ${assigned.operatorId}, ${mode}, ${at})
      returning id)`);
    assignmentId = sql`(select id from opened)`;
    assignedAt = sql`${at}::timestamptz`;
  }

  const c = t.chat;
  const v = {
    state: c.state,
    assignee: c.assigneeId,
    lastOperator: c.lastOperatorId,
    replied: sql`${c.operatorRepliedAt?.toISOString() ?? null}::timestamptz`,
    customer: sql`${c.lastCustomerMessageAt?.toISOString() ?? null}::timestamptz`,
    waiting: sql`${c.waitingSince?.toISOString() ?? null}::timestamptz`,
  };
  const write = locked
    ? sql`
      update chats set state = ${v.state}, assignee_id = ${v.assignee}, last_operator_id = ${v.lastOperator},
             operator_replied_at = ${v.replied}, last_customer_message_at = ${v.customer}, waiting_since = ${v.waiting},
             assignment_id = ${assignmentId}, assigned_at = ${assignedAt},
             completed_at = case when ${v.state} = 'completed' then ${at}::timestamptz else completed_at end,
             version = version + 1, updated_at = ${at}
       where id = ${target.id} and version = ${locked.version}
      returning assignment_id`
    : sql`
      insert into chats (id, tenant_id, state, assignee_id, last_operator_id, operator_replied_at, last_customer_message_at,
                         waiting_since, assignment_id, assigned_at, updated_at)
      values (${target.id}, ${target.tenantId}, ${v.state}, ${v.assignee}, ${v.lastOperator}, ${v.replied}, ${v.customer},
              ${v.waiting}, ${assignmentId}, ${assignedAt}, ${at})
      returning assignment_id`;
  const r = await tx.execute<{ assignment_id: string | number | null }>(
    ctes.length > 0 ? sql`with ${sql.join(ctes, sql`, `)} ${write}` : write,
  );
  if (r.rows.length !== 1) throw new Error(`chat ${target.id} changed under its row lock`);

  if (assigned) {
    const id = Number(r.rows[0]?.assignment_id);
    const waitedMs = Math.max(0, e.at.getTime() - (c.waitingSince?.getTime() ?? e.at.getTime()));
    deps.metrics.waitTime.observe({ mode }, waitedMs / 1000);
    outbox.push(
      chatEvent(deps, 'chat.assigned', target.tenantId, target.id, {
        chatId: target.id,
        operatorId: assigned.operatorId,
        assignmentId: id,
        mode,
        waitedMs: Math.round(waitedMs),
        at,
      }),
    );
    const idleMinutes = opts.idleMinutes ?? (await settingsOf(tx, target.tenantId)).idleMinutes;
    idle.push({ tenantId: target.tenantId, chatId: target.id, assignmentId: id, delayMs: idleMinutes * 60_000 });
  }
  if (t.effects.completed) {
    outbox.push(
      chatEvent(deps, 'chat.completed', target.tenantId, target.id, {
        chatId: target.id,
        reason: t.effects.completed.reason,
        at,
      }),
    );
  }
  return { ok: true, chat: c, outbox, idle };
}
