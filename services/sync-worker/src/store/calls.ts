import { type Executor, pgSafe } from '@switchboard/db';
import { sql } from 'drizzle-orm';

export type CallRow = {
  id: string;
  conversation_id: string;
  event: string;
  status: string | null;
  started_at: Date | null;
  ended_at: Date | null;
  duration_seconds: number | null;
};

export interface CallEvent {
  tenantId: string;
  conversationId: string;
  callId: string;
  direction: string;
  event: string;
  status?: string | undefined;
  startedAt?: Date | undefined;
  endedAt?: Date | undefined;
  durationSeconds?: number | undefined;
  raw: Record<string, unknown>;
}

/**
 * A call's row, created by its first event and moved forward by later ones: `terminate` outranks
 * `connect` and any other event, so a connect that arrives after the terminate changes nothing.
 * Returns the row when this event changed it, null when it was stale or a copy.
 */
export async function recordCall(tx: Executor, c: CallEvent): Promise<CallRow | null> {
  const res = await tx.execute<CallRow>(sql`
    insert into conversation_calls (tenant_id, conversation_id, provider_call_id, direction, event, status,
                                    started_at, ended_at, duration_seconds, raw)
    values (${c.tenantId}, ${c.conversationId}, ${c.callId}, ${c.direction}, ${c.event}, ${c.status ?? null},
            ${c.startedAt?.toISOString() ?? null}, ${c.endedAt?.toISOString() ?? null}, ${c.durationSeconds ?? null},
            ${JSON.stringify(pgSafe(c.raw))}::jsonb)
    on conflict (tenant_id, provider_call_id) do update
      set event = excluded.event,
          status = coalesce(excluded.status, conversation_calls.status),
          started_at = coalesce(excluded.started_at, conversation_calls.started_at),
          ended_at = coalesce(excluded.ended_at, conversation_calls.ended_at),
          duration_seconds = coalesce(excluded.duration_seconds, conversation_calls.duration_seconds),
          raw = excluded.raw,
          updated_at = now()
    where (case excluded.event when 'terminate' then 2 when 'connect' then 1 else 0 end)
        > (case conversation_calls.event when 'terminate' then 2 when 'connect' then 1 else 0 end)
    returning id, conversation_id, event, status, started_at, ended_at, duration_seconds`);
  return res.rows[0] ?? null;
}
