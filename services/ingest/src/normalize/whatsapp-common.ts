import type { CloudEvent } from '@switchboard/contracts';
import { z } from 'zod';

/** What both WhatsApp normalizers (whatsapp.ts, whatsapp-business.ts) share: a contact and the result. */

export const Contact = z.looseObject({
  wa_id: z.string().optional(),
  user_id: z.string().optional(),
  parent_user_id: z.string().optional(),
  profile: z.looseObject({ name: z.string().optional(), username: z.string().optional() }).optional(),
});
export type Contact = z.infer<typeof Contact>;

export interface Normalized {
  events: Array<{ routingKey: string; event: CloudEvent }>;
  /** Parts that were signed but not understood: published to the parking key, never retried. */
  parked: Array<{ reason: string; fragment: unknown }>;
}
