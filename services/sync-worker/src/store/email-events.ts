import type { MailgunEventReceived } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { sql } from 'drizzle-orm';

/**
 * Records a Mailgun event against its message, once per Mailgun event id: false when it was
 * recorded before (a redelivery, or Mailgun sending it twice), and nothing else may follow from it.
 */
export async function recordEmailEvent(
  tx: Executor,
  tenantId: string,
  messageId: string,
  e: MailgunEventReceived,
): Promise<boolean> {
  const detail = {
    severity: e.severity ?? null,
    reason: e.reason ?? null,
    url: e.url ?? null,
    deliveryStatus: e.deliveryStatus ?? null,
  };
  const res = await tx.execute(sql`
    insert into email_events (tenant_id, mailgun_event_id, message_id, event, at, detail)
    values (${tenantId}, ${e.mailgunEventId}, ${messageId}, ${e.event}, ${new Date(e.at).toISOString()},
            ${JSON.stringify(detail)}::jsonb)
    on conflict do nothing`);
  return (res.rowCount ?? 0) > 0;
}
