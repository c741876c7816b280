import type { WhatsAppStatusUpdated } from '@switchboard/contracts';
import { type Executor, schema } from '@switchboard/db';

/**
 * Keeps a delivery-status report's conversation, pricing and errors as the provider sent them, whether or
 * not its message is stored yet; a redelivered or repeated report changes nothing.
 */
export async function recordDeliveryReport(
  tx: Executor,
  tenantId: string,
  eventId: string,
  s: WhatsAppStatusUpdated,
): Promise<void> {
  await tx
    .insert(schema.messageStatusReports)
    .values({
      tenantId,
      provider: s.provider,
      providerMessageId: s.messageId,
      status: s.status,
      at: new Date(s.at),
      conversation: s.conversation ?? null,
      pricing: s.pricing ?? null,
      errors: s.errors ?? null,
      eventId,
    })
    .onConflictDoNothing();
}
