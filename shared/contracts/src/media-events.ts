import { z } from 'zod';

/**
 * A stored inbound message carries media the provider still holds: a downstream fetcher
 * downloads it (WhatsApp: `GET /<mediaId>` for a short-lived URL), checks `sha256` and keeps it.
 * The sync-worker downloads nothing itself.
 */
export const MediaDownloadRequested = z.object({
  messageId: z.uuid(),
  conversationId: z.uuid(),
  /** The business account that received it (WhatsApp `phone_number_id`): whose token fetches it. */
  accountId: z.string(),
  provider: z.string(),
  kind: z.string(),
  mediaId: z.string(),
  mimeType: z.string().optional(),
  sha256: z.string().optional(),
  filename: z.string().optional(),
  requestedAt: z.iso.datetime({ offset: true }),
});
export type MediaDownloadRequested = z.infer<typeof MediaDownloadRequested>;
