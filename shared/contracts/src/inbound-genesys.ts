import { DELIVERY_STATUSES } from '@switchboard/domain';
import { z } from 'zod';
import { ProviderError } from './inbound.ts';

/**
 * Canonical inbound events from Genesys Cloud Open Messaging, published by `services/webhooks`.
 * `accountId` is the Open Messaging integration id (the payload's `channel.id`), registered as a
 * `genesys` channel; the consumer resolves the tenant from it. Typing events are not published:
 * they change no state (the edge counts them and answers 200).
 */

/** An agent's message in Genesys for the customer (Open Messaging `direction: Outbound`). */
export const GenesysAgentMessage = z.object({
  provider: z.literal('genesys'),
  accountId: z.string().min(1),
  /** Genesys' id for the message; unique per tenant, so a re-sent webhook is stored once. */
  messageId: z.string().min(1).max(500),
  /** Genesys' conversation id, when the payload carries it. */
  genesysConversationId: z.string().min(1).optional(),
  /** The customer's id on the Open Messaging channel (`channel.to.id`): their WhatsApp id. */
  to: z.string().min(1),
  /** The agent (`channel.from`). */
  agentId: z.string().min(1),
  agentName: z.string().optional(),
  type: z.enum(['text', 'attachment']),
  text: z.string().optional(),
  attachments: z
    .array(
      z.object({
        mediaType: z.string().optional(),
        url: z.string().optional(),
        mime: z.string().optional(),
        filename: z.string().optional(),
        text: z.string().optional(),
      }),
    )
    .optional(),
  at: z.iso.datetime({ offset: true }),
  raw: z.record(z.string(), z.unknown()),
});
export type GenesysAgentMessage = z.infer<typeof GenesysAgentMessage>;

/** A Genesys receipt for a message: Published/Sent → sent, Delivered, Read, Failed (with reasons). */
export const GenesysReceipt = z.object({
  provider: z.literal('genesys'),
  accountId: z.string().min(1),
  /** The id of the message the receipt is about (Genesys' id of the agent message). */
  messageId: z.string().min(1).max(500),
  status: z.enum(DELIVERY_STATUSES),
  /** The status as Genesys wrote it (`Published`, `Delivered`, `Failed`, …). */
  genesysStatus: z.string(),
  isFinal: z.boolean().optional(),
  errors: z.array(ProviderError).optional(),
  at: z.iso.datetime({ offset: true }),
  raw: z.record(z.string(), z.unknown()),
});
export type GenesysReceipt = z.infer<typeof GenesysReceipt>;

export const genesysRoutingKeys = {
  agentMessage: 'genesys.message.outbound',
  receipt: 'genesys.receipt.received',
} as const;
