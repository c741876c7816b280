import type { CloudEvent, WhatsAppStatusUpdated } from '@switchboard/contracts';
import { appendOutbox, claimInbox } from '@switchboard/db';
import { dead, done, type Outcome, skipped } from '@switchboard/platform';
import { CONSUMER, type Deps } from '../deps.ts';
import { findMessageForUpdate, holdStatus, lockMessageKey } from '../store/messages.ts';
import { applyStatuses } from './delivery.ts';

/**
 * A delivery status (sent, delivered, read, failed) for a message. Applied monotonically to the
 * stored message; held when the message is not stored yet, and applied when it lands.
 */
export async function handleWhatsAppStatus(deps: Deps, event: CloudEvent<WhatsAppStatusUpdated>): Promise<Outcome> {
  const s = event.data;
  const channel = await deps.resolveChannel('whatsapp', s.accountId);
  if (!channel) return dead(`unknown_channel: no WhatsApp channel for phone_number_id ${s.accountId}`);
  const key = { tenantId: channel.tenantId, provider: 'whatsapp', providerMessageId: s.messageId };
  const report = { status: s.status, at: new Date(s.at), errors: s.errors ?? null };

  return deps.locks.withLocks([`message:${key.tenantId}:${s.messageId}`], { ...deps.lock, scope: 'message' }, () =>
    deps.db.transaction(async (tx) => {
      if (!(await claimInbox(tx, CONSUMER, event.id))) return skipped('duplicate event');
      await lockMessageKey(tx, key);
      const message = await findMessageForUpdate(tx, key);
      if (!message) {
        await holdStatus(tx, key, { ...report, eventId: event.id });
        deps.metrics.statuses.inc({ provider: 'whatsapp', result: 'held' });
        return done;
      }
      await appendOutbox(tx, await applyStatuses(tx, deps, key, message, [report]));
      return done;
    }),
  );
}
