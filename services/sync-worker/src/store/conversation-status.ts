import type { Executor } from '@switchboard/db';
import { sql } from 'drizzle-orm';

/**
 * A conversation's response times, from its messages alone (one index range of
 * `messages_conversation_idx`). A *turn* is the customer's messages between two replies; its
 * response time runs from the turn's first customer message to the reply that ends it (a reply
 * is any outbound message: an agent's, an operator's, or one sent for them). A turn still waiting
 * has no response time yet: `waitingSince` is its first message.
 */
export interface ResponseTimes {
  responses: number;
  firstResponseMs: number | null;
  averageResponseMs: number | null;
  firstCustomerMessageAt: string | null;
  firstResponseAt: string | null;
  waitingSince: string | null;
}

type TurnRow = {
  inbound: string;
  outbound: string;
  responses: string;
  first_ms: number | null;
  avg_ms: number | null;
  first_inbound_at: Date | null;
  first_response_at: Date | null;
  waiting_since: Date | null;
};

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
const ms = (v: number | string | null) => (v === null ? null : Math.round(Number(v)));

/** Counts and response times of a conversation of `tenantId` (which the caller has found). */
export async function conversationMessageStats(db: Executor, tenantId: string, conversationId: string) {
  const res = await db.execute<TurnRow>(sql`
    with m as (
      select direction, received_at,
             count(*) filter (where direction = 'outbound')
               over (order by received_at, id rows between unbounded preceding and 1 preceding) as turn
        from messages where tenant_id = ${tenantId} and conversation_id = ${conversationId}
    ), turns as (
      select turn, min(received_at) filter (where direction = 'inbound') as asked,
             min(received_at) filter (where direction = 'outbound') as answered,
             count(*) filter (where direction = 'inbound') as inbound,
             count(*) filter (where direction = 'outbound') as outbound
        from m group by turn
    ), answered as (
      select turn, asked, answered, extract(epoch from answered - asked) * 1000 as took
        from turns where asked is not null and answered is not null
    )
    select coalesce((select sum(inbound) from turns), 0) as inbound,
           coalesce((select sum(outbound) from turns), 0) as outbound,
           (select count(*) from answered) as responses,
           (select took from answered order by turn limit 1) as first_ms,
           (select avg(took) from answered) as avg_ms,
           (select min(asked) from turns) as first_inbound_at,
           (select answered from answered order by turn limit 1) as first_response_at,
           (select asked from turns where answered is null and asked is not null) as waiting_since`);
  const r = res.rows[0] as TurnRow;
  const responseTimes: ResponseTimes = {
    responses: Number(r.responses),
    firstResponseMs: ms(r.first_ms),
    averageResponseMs: ms(r.avg_ms),
    firstCustomerMessageAt: iso(r.first_inbound_at),
    firstResponseAt: iso(r.first_response_at),
    waitingSince: iso(r.waiting_since),
  };
  return { inbound: Number(r.inbound), outbound: Number(r.outbound), responseTimes };
}

/** How many of the conversation's tickets are in each status (only statuses present). */
export async function ticketCounts(db: Executor, tenantId: string, conversationId: string) {
  const res = await db.execute<{ status: string; n: string }>(sql`
    select status, count(*) as n from tickets
     where tenant_id = ${tenantId} and conversation_id = ${conversationId} group by status order by status`);
  return Object.fromEntries(res.rows.map((r) => [r.status, Number(r.n)]));
}
