import { type Executor, setChangeContext } from '@switchboard/db';
import { sql } from 'drizzle-orm';

/**
 * The conversation a history message of this customer and channel belongs to: their latest one
 * (live or not; its activity is left alone), else a new conversation that is closed from the
 * start, opened and last active when the message was sent: the past never opens a live chat.
 */
export async function historyConversation(
  tx: Executor,
  k: { tenantId: string; channelId: string; customerId: string; at: Date },
): Promise<string> {
  const found = await tx.execute<{ id: string }>(sql`
    select id from conversations
     where tenant_id = ${k.tenantId} and channel_id = ${k.channelId} and customer_id = ${k.customerId}
     order by (status <> 'closed') desc, last_activity_at desc limit 1`);
  const id = found.rows[0]?.id;
  if (id) return id;
  await setChangeContext(tx, { source: 'system', reason: 'WhatsApp Business app history' });
  const opened = await tx.execute<{ id: string }>(sql`
    insert into conversations (tenant_id, channel_id, customer_id, provider, status, opened_at, closed_at, last_activity_at)
    values (${k.tenantId}, ${k.channelId}, ${k.customerId}, 'whatsapp', 'closed', ${k.at.toISOString()},
            ${k.at.toISOString()}, ${k.at.toISOString()})
    returning id`);
  return (opened.rows[0] as { id: string }).id;
}
