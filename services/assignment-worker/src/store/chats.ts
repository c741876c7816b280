import type { AssignMode } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import type { Chat, ChatEffects } from '@switchboard/domain';
import { transactionMemo } from '@switchboard/worker';
import { type SQL, sql } from 'drizzle-orm';
import { type ChatRow, COLUMNS, heldRow, holdRow, type LockedChat, providerOf, toLockedChat } from './chat-row.ts';

/** A decided chat change to write; `waitedMs`: the customer's wait if it opens an assignment. */
export interface ChatWrite {
  chat: Chat;
  effects: ChatEffects;
  locked: LockedChat | null;
  at: string;
  mode: AssignMode;
  waitedMs: number;
}

/**
 * Writes one decided chat change as one statement: the assignment closed or opened in
 * data-modifying CTEs, and the chat written with the new assignment's id (its trigger moves the
 * operators' loads), against the version it read. Returns the row as written, still row-locked,
 * and the queue wait the opened assignment recorded (null: none opened, or a transfer).
 */
export async function writeChatChange(
  tx: Executor,
  target: { id: string; tenantId: string },
  change: ChatWrite,
): Promise<{ row: LockedChat; queueWaitMs: number | null }> {
  const plan = assignmentWrites(target, change);
  const write = writeChat(target, change.chat, change.locked, plan.assignment, change.at);
  const r = await tx.execute<ChatRow & { queue_wait_ms: string | null }>(
    plan.ctes.length > 0 ? sql`with ${sql.join(plan.ctes, sql`, `)} ${write}` : write,
  );
  const written = r.rows[0];
  if (r.rows.length !== 1 || !written) throw new Error(`chat ${target.id} changed under its row lock`);
  const queueWaitMs = written.queue_wait_ms === null ? null : Number(written.queue_wait_ms);
  return { row: toLockedChat(written), queueWaitMs };
}

/**
 * The queue wait an assignment records: `waitedMs`, unless the chat's previous assignment ended
 * for `transfer` in this same transaction (its row version is this transaction's: `xmin`), which
 * makes this one a hand-over, not a wait in the queue: null. That is POST /chats/:id/transfer
 * (release and assignment in one transaction), and a desk release for `transfer` that auto-assign
 * hands to another operator at once. Told from the rows rather than by the caller, so every path
 * that does this counts the same.
 */
const queueWait = (target: { id: string; tenantId: string }, waitedMs: number) => sql`
  case when exists (select 1 from chat_assignments p
                     where p.chat_id = ${target.id} and p.tenant_id = ${target.tenantId}
                       and p.end_reason = 'transfer' and p.xmin = xid(pg_current_xact_id()))
       then null else ${Math.round(waitedMs)}::bigint end`;

/** The assignment's end or start as CTEs, and the chat's assignment columns after them. */
function assignmentWrites(target: { id: string; tenantId: string }, change: ChatWrite) {
  const { effects, locked, at, mode } = change;
  const ctes: SQL[] = [];
  let assignment = {
    id: sql`${locked?.assignmentId ?? null}::bigint`,
    at: sql`${locked?.assignedAt?.toISOString() ?? null}::timestamptz`,
    queueWait: sql`null::bigint`,
  };
  if (effects.released && locked?.assignmentId != null) {
    ctes.push(sql`closed_assignment as (
      update chat_assignments set ended_at = ${at}, end_reason = ${effects.released.reason}
       where id = ${locked.assignmentId} and tenant_id = ${target.tenantId} and ended_at is null)`);
    assignment = { id: sql`null::bigint`, at: sql`null::timestamptz`, queueWait: sql`null::bigint` };
  }
  if (effects.assigned) {
    ctes.push(sql`opened as (
      insert into chat_assignments (tenant_id, chat_id, operator_id, mode, assigned_at, waited_ms, provider)
      values (${target.tenantId}, ${target.id}, ${effects.assigned.operatorId}, ${mode}, ${at},
              ${queueWait(target, change.waitedMs)}, ${providerOf(sql`${target.id}::uuid`, target.tenantId)})
      returning id, waited_ms)`);
    assignment = {
      id: sql`(select id from opened)`,
      at: sql`${at}::timestamptz`,
      queueWait: sql`(select waited_ms from opened)`,
    };
  }
  return { ctes, assignment };
}

const ts = (d: Date | null) => sql`${d?.toISOString() ?? null}::timestamptz`;

/** The statement that writes the chat (an update against the version it read, or the first insert). */
function writeChat(
  target: { id: string; tenantId: string },
  c: Chat,
  locked: LockedChat | null,
  assignment: { id: SQL; at: SQL; queueWait: SQL },
  at: string,
): SQL {
  const returning = sql`${COLUMNS}, ${assignment.queueWait} as queue_wait_ms`;
  if (locked) {
    return sql`
      update chats set state = ${c.state}, assignee_id = ${c.assigneeId}, last_operator_id = ${c.lastOperatorId},
             operator_replied_at = ${ts(c.operatorRepliedAt)}, last_customer_message_at = ${ts(c.lastCustomerMessageAt)},
             waiting_since = ${ts(c.waitingSince)}, assignment_id = ${assignment.id}, assigned_at = ${assignment.at},
             completed_at = ${ts(c.completedAt)}, closed = ${c.closed}, idle_operator_id = ${c.idleOperatorId},
             flagged_at = ${ts(c.flaggedAt)}, queue = ${c.queue}, version = version + 1, updated_at = ${at}
       where id = ${target.id} and tenant_id = ${target.tenantId} and version = ${locked.version}
      returning ${returning}`;
  }
  return sql`
    insert into chats (id, tenant_id, state, assignee_id, last_operator_id, operator_replied_at, last_customer_message_at,
                       waiting_since, assignment_id, assigned_at, queue, updated_at)
    values (${target.id}, ${target.tenantId}, ${c.state}, ${c.assigneeId}, ${c.lastOperatorId}, ${ts(c.operatorRepliedAt)},
            ${ts(c.lastCustomerMessageAt)}, ${ts(c.waitingSince)}, ${assignment.id}, ${assignment.at}, ${c.queue}, ${at})
    returning ${returning}`;
}

/**
 * A held chat's change kept in memory: `base` is the row as the table has it (its version guards
 * the write; null: no row yet, an insert), `row` the chat as changed, `at` its latest change's time.
 */
interface HeldWrite {
  base: LockedChat | null;
  row: LockedChat;
  at: string;
}

/** The held chats' changes not written yet, by transaction (a unit of work's memo), by tenant and chat. */
const unwrittenBy = transactionMemo<Map<string, HeldWrite>>();
const rowKey = (row: { tenantId: string; id: string }) => `${row.tenantId}/${row.id}`.toLowerCase();

/**
 * Keeps a decided change of a chat this transaction locked ahead (`lockChats`) in memory, when it
 * neither opens nor closes an assignment (nothing else in the statement, nothing the caller needs
 * back from it): `writeHeldChats` writes the held chats' changes in one statement before the
 * commit. Returns the row as changed, or undefined: the change is the caller's to write now.
 */
export function deferChatChange(
  tx: Executor,
  target: { id: string; tenantId: string },
  change: ChatWrite,
): LockedChat | undefined {
  const { chat, effects, locked, at } = change;
  if (effects.assigned || (effects.released && locked?.assignmentId != null)) return undefined;
  const held = heldRow(tx, target.tenantId, target.id);
  if (held === undefined || held !== locked) return undefined;
  const unwritten = unwrittenBy.get(tx) ?? new Map<string, HeldWrite>();
  unwrittenBy.set(tx, unwritten);
  const earlier = unwritten.get(rowKey(target));
  const base = earlier ? earlier.base : locked;
  const row: LockedChat = {
    id: locked?.id ?? target.id.toLowerCase(),
    tenantId: locked?.tenantId ?? target.tenantId.toLowerCase(),
    chat,
    assignmentId: locked?.assignmentId ?? null,
    assignedAt: locked?.assignedAt ?? null,
    // What the table will say once written: one write, one version more.
    version: base ? base.version + 1 : 1,
    // A new chat has had no clock read: its change's time stands in (nothing in a batch reads it).
    dbNow: locked?.dbNow ?? new Date(at),
  };
  unwritten.set(rowKey(target), { base, row, at });
  holdRow(tx, row);
  return row;
}

/**
 * Writes the held chats' changes kept in memory (`deferChatChange`), all of them in one statement:
 * the new chats inserted (the primary key guards against a concurrent first insert), the others
 * updated against the version this transaction locked them at (the Postgres guard, as for a change
 * written at once). The rows stay held as changed. Throws if any row was not as locked.
 */
export async function writeHeldChats(tx: Executor): Promise<void> {
  const unwritten = unwrittenBy.get(tx);
  if (!unwritten || unwritten.size === 0) return;
  unwrittenBy.delete(tx);
  const rows = [...unwritten.values()]
    .sort((a, b) => (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0))
    .map(({ base, row, at }) => {
      const c = row.chat;
      const iso = (d: Date | null) => d?.toISOString() ?? null;
      return {
        id: row.id,
        tenant_id: row.tenantId,
        version: base?.version ?? null,
        state: c.state,
        assignee_id: c.assigneeId,
        last_operator_id: c.lastOperatorId,
        operator_replied_at: iso(c.operatorRepliedAt),
        last_customer_message_at: iso(c.lastCustomerMessageAt),
        waiting_since: iso(c.waitingSince),
        assignment_id: row.assignmentId,
        assigned_at: iso(row.assignedAt),
        completed_at: iso(c.completedAt),
        closed: c.closed,
        idle_operator_id: c.idleOperatorId,
        flagged_at: iso(c.flaggedAt),
        queue: c.queue,
        updated_at: at,
      };
    });
  const r = await tx.execute<{ written: number }>(sql`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(
        id uuid, tenant_id uuid, version integer, state text, assignee_id text, last_operator_id text,
        operator_replied_at timestamptz, last_customer_message_at timestamptz, waiting_since timestamptz,
        assignment_id bigint, assigned_at timestamptz, completed_at timestamptz, closed boolean,
        idle_operator_id text, flagged_at timestamptz, queue text, updated_at timestamptz)),
    inserted as (
      insert into chats (id, tenant_id, state, assignee_id, last_operator_id, operator_replied_at,
                         last_customer_message_at, waiting_since, assignment_id, assigned_at, completed_at, closed,
                         idle_operator_id, flagged_at, queue, updated_at)
      select id, tenant_id, state, assignee_id, last_operator_id, operator_replied_at, last_customer_message_at,
             waiting_since, assignment_id, assigned_at, completed_at, closed, idle_operator_id, flagged_at, queue,
             updated_at
        from v where v.version is null
       order by id
      returning 1),
    updated as (
      update chats c
         set state = v.state, assignee_id = v.assignee_id, last_operator_id = v.last_operator_id,
             operator_replied_at = v.operator_replied_at, last_customer_message_at = v.last_customer_message_at,
             waiting_since = v.waiting_since, assignment_id = v.assignment_id, assigned_at = v.assigned_at,
             completed_at = v.completed_at, closed = v.closed, idle_operator_id = v.idle_operator_id,
             flagged_at = v.flagged_at, queue = v.queue, version = c.version + 1, updated_at = v.updated_at
        from v
       where v.version is not null and c.id = v.id and c.tenant_id = v.tenant_id and c.version = v.version
      returning 1)
    select ((select count(*) from inserted) + (select count(*) from updated))::int as written`);
  const written = Number(r.rows[0]?.written ?? 0);
  if (written !== rows.length) throw new Error(`${rows.length - written} held chats changed under their row lock`);
}
