import type { CloudEvent, WhatsAppMessageReceived } from '@switchboard/contracts';
import type { Channel } from '@switchboard/worker';
import type { IdentityNotice, SenderIdentity } from './whatsapp-identity.ts';

/** Who a message is from (any of phone, user id, username may be missing), and a notice's ids. */
export interface Sender {
  channel: Channel;
  identity: SenderIdentity;
  /** A `user_changed_user_id` notice: linked, never stored as a message. */
  notice?: IdentityNotice | undefined;
}

/** A customer's WhatsApp message of a batch, with its sender as the route prepared it. */
export type Item = { event: CloudEvent<WhatsAppMessageReceived>; value: Sender };
