import type { Executor } from '@switchboard/db';
import type { Chat, ChatState } from '@switchboard/domain';
import { transactionMemo } from '@switchboard/worker';
import { type SQL, sql } from 'drizzle-orm';
import { rememberSettings, type SettingsRow, settingsColumn } from './settings.ts';

export type ChatRow = {
  id: string;
  tenant_id: string;
  state: ChatState;
  assignee_id: string | null;
  assignment_id: number | string | null;
  last_operator_id: string | null;
  operator_replied_at: Date | string | null;
  last_customer_message_at: Date | string | null;
  waiting_since: Date | string | null;
  assigned_at: Date | string | null;
  completed_at: Date | string | null;
  closed: boolean;
  idle_operator_id: string | null;
  flagged_at: Date | string | null;
  queue: string | null;
  version: number;
  db_now: Date | string;
};

export interface LockedChat {
  id: string;
  tenantId: string;
  chat: Chat;
  assignmentId: number | null;
  assignedAt: Date | null;
  version: number;
  /** Postgres's clock when the row was locked: the clock the customer's message times come from. */
  dbNow: Date;
}

/** A chat row's columns as `LockedChat` reads them (also what a write returns). */
export const COLUMNS = sql.raw(`id, tenant_id, state, assignee_id, assignment_id, last_operator_id, operator_replied_at,
  last_customer_message_at, waiting_since, assigned_at, completed_at, closed, idle_operator_id, flagged_at, queue,
  version, clock_timestamp() as db_now`);

const toDate = (v: Date | string | null) => (v === null ? null : new Date(v));

export function toLockedChat(row: ChatRow): LockedChat {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    assignmentId: row.assignment_id === null ? null : Number(row.assignment_id),
    assignedAt: toDate(row.assigned_at),
    version: row.version,
    dbNow: new Date(row.db_now),
    chat: {
      state: row.state,
      assigneeId: row.assignee_id,
      lastOperatorId: row.last_operator_id,
      operatorRepliedAt: toDate(row.operator_replied_at),
      lastCustomerMessageAt: toDate(row.last_customer_message_at),
      waitingSince: toDate(row.waiting_since),
      completedAt: toDate(row.completed_at),
      closed: row.closed,
      idleOperatorId: row.idle_operator_id,
      flaggedAt: toDate(row.flagged_at),
      queue: row.queue,
    },
  };
}

/**
 * The chat row-locked (the Postgres guard for every change to it), or null if the queue has not
 * seen it or it belongs to another tenant. The tenant is in the WHERE, not checked afterwards: a
 * caller naming another tenant's chat must neither lock it nor wait on whoever holds it. Lock
 * order everywhere: a chat before any operator.
 */
export async function lockChat(tx: Executor, id: string, tenantId: string): Promise<LockedChat | null> {
  const held = heldRow(tx, tenantId, id);
  if (held !== undefined) return held;
  const r = await tx.execute<ChatRow>(
    sql`select ${COLUMNS} from chats where id = ${id} and tenant_id = ${tenantId} for update`,
  );
  const row = r.rows[0];
  return row ? toLockedChat(row) : null;
}

/**
 * The chats `lockChats` locked, by transaction (a unit of work's memo): each chat's row as this
 * transaction has it now (null: no row yet), by tenant and id. `lockChat` hands it out instead of a
 * second round trip; a change of it is kept here (`holdRow`), written in memory or to the table.
 */
const heldBy = transactionMemo<Map<string, LockedChat | null>>();
// Postgres prints a uuid in lower case; an event may name it in upper case.
const heldKey = (tenantId: string, id: string) => `${tenantId}/${id}`.toLowerCase();

/** The chat as this transaction holds it since `lockChats` (null: no row yet), or undefined: not held. */
export function heldRow(tx: Executor, tenantId: string, id: string): LockedChat | null | undefined {
  return heldBy.get(tx)?.get(heldKey(tenantId, id));
}

/** A held chat's row after this transaction changed it (in memory or in the table); a chat not held stays not held. */
export function holdRow(tx: Executor, row: LockedChat): void {
  const held = heldBy.get(tx);
  const key = heldKey(row.tenantId, row.id);
  if (held?.has(key)) held.set(key, row);
}

/**
 * Row-locks a tenant's chats among `ids` in id order, one statement for a batch's chats: taken
 * before anything else in the batch's transaction, so batches that share chats lock them in one
 * order (and before the auto-assign tenant lock and any operator, as everywhere). A chat the queue
 * has not seen yet has no row to lock; its insert is guarded by the primary key, as without a
 * batch. The rows read are kept for the transaction's `lockChat`, and their changes are written
 * once, for all of them, at the end of the tenant's part of the batch (`writeHeldChats` in
 * chats.ts): the caller writes them before its outbox append and commit. The tenant's settings
 * come back with the rows and are kept for the transaction (`settingsOnce`): a batch's round trips
 * are its cost once the machine is busy, and this saves one (when no chat has a row yet, the
 * settings are read on their own when needed).
 */
export async function lockChats(tx: Executor, tenantId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const r = await tx.execute<ChatRow & { settings: SettingsRow | null }>(sql`
    select ${COLUMNS}, ${settingsColumn(tenantId)} as settings from chats
     where tenant_id = ${tenantId} and id = any(${sql.param(ids)}::uuid[])
     order by id
       for update`);
  const held = heldBy.get(tx) ?? new Map<string, LockedChat | null>();
  for (const id of ids) held.set(heldKey(tenantId, id), null);
  for (const row of r.rows) held.set(heldKey(tenantId, row.id), toLockedChat(row));
  heldBy.set(tx, held);
  const first = r.rows[0];
  if (first) rememberSettings(tx, tenantId, first.settings);
}

/**
 * The transaction may now write chats other than through `lockChat` (an auto-assign push claims
 * from the queue): what `lockChats` read is not handed out any more. The caller has written every
 * held change first (`writeHeldChats`), so the statements that follow read them from the table.
 */
export function forgetHeldChats(tx: Executor): void {
  heldBy.delete(tx);
}

/**
 * The chats assigned to an operator, row-locked in id order (so two such lockers cannot deadlock
 * each other). `skipLocked` for a caller already holding the operator's row, which must never wait
 * on a chat (the lock order is chats before operators).
 */
export async function lockAssignedTo(
  tx: Executor,
  tenantId: string,
  operatorId: string,
  opts: { skipLocked?: boolean; except?: string[] } = {},
): Promise<LockedChat[]> {
  const except = opts.except?.length ? sql`and id <> all(${sql.param(opts.except)}::uuid[])` : sql``;
  const r = await tx.execute<ChatRow>(sql`
    select ${COLUMNS} from chats
     where tenant_id = ${tenantId} and state = 'assigned' and assignee_id = ${operatorId} ${except}
     order by id
       for update ${opts.skipLocked ? sql`skip locked` : sql``}`);
  return r.rows.map(toLockedChat);
}

/**
 * The provider of the chat `chatId`'s conversation (a chat's id is its conversation's), as a
 * subquery for an assignment's insert: one primary-key lookup, under the tenant's transaction.
 */
export const providerOf = (chatId: SQL, tenantId: string) =>
  sql`(select provider from conversations where id = ${chatId} and tenant_id = ${tenantId}::uuid)`;
