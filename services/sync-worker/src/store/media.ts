import type { WhatsAppMedia } from '@switchboard/contracts';
import { type Executor, schema } from '@switchboard/db';

export interface MediaRow {
  messageId: string;
  tenantId: string;
  provider: string;
  media: WhatsAppMedia;
}

/**
 * Records media for newly stored messages, in their transaction. The message id is the key, so
 * a redelivery that slipped past the inbox inserts nothing.
 */
export async function insertMedia(tx: Executor, rows: MediaRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx
    .insert(schema.messageMedia)
    .values(
      rows.map((r) => ({
        messageId: r.messageId,
        tenantId: r.tenantId,
        provider: r.provider,
        kind: r.media.kind,
        providerMediaId: r.media.id,
        mimeType: r.media.mimeType ?? null,
        sha256: r.media.sha256 ?? null,
        caption: r.media.caption ?? null,
        filename: r.media.filename ?? null,
      })),
    )
    .onConflictDoNothing();
}
