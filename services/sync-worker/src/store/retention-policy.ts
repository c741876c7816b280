import { DEFAULT_RETENTION, type RetentionPolicy } from '@switchboard/domain';
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

const columns = `conversation_days as "conversationDays", message_days as "messageDays", media_days as "mediaDays",
  email_body_days as "emailBodyDays", status_history_days as "statusHistoryDays", lead_days as "leadDays"`;

/** The tenant's policy and whether it is its own (false: the defaults). */
export async function readRetentionPolicy(
  db: Queryable,
  tenantId: string,
): Promise<{ policy: RetentionPolicy; custom: boolean }> {
  const res = await db.query<RetentionPolicy>(`select ${columns} from retention_policies where tenant_id = $1`, [
    tenantId,
  ]);
  const row = res.rows[0];
  return row ? { policy: row, custom: true } : { policy: DEFAULT_RETENTION, custom: false };
}

/** Stores a checked policy (checkRetentionPolicy); the table's constraint checks it again. */
export async function writeRetentionPolicy(db: Queryable, tenantId: string, p: RetentionPolicy): Promise<void> {
  await db.query(
    `insert into retention_policies (tenant_id, conversation_days, message_days, media_days, email_body_days,
                                     status_history_days, lead_days, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, now())
     on conflict (tenant_id) do update set conversation_days = excluded.conversation_days,
       message_days = excluded.message_days, media_days = excluded.media_days,
       email_body_days = excluded.email_body_days, status_history_days = excluded.status_history_days,
       lead_days = excluded.lead_days, updated_at = now()`,
    [tenantId, p.conversationDays, p.messageDays, p.mediaDays, p.emailBodyDays, p.statusHistoryDays, p.leadDays],
  );
}
