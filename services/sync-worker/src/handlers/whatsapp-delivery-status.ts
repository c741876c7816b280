import { WhatsAppStatusUpdated } from '@switchboard/contracts';
import { done } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import { recordDeliveryReport } from '../store/delivery-reports.ts';
import { reportDeliveryStatus } from './delivery-status.ts';
import { type Applied, route } from './route.ts';

/**
 * A delivery status (sent, delivered, read, failed) for a message. Applied monotonically to the
 * stored message; held when the message is not stored yet, and applied when it lands. Statuses
 * of one batch are applied one after another, after the batch's messages, in its transaction.
 */
export const whatsappDeliveryStatusRoute = route<WhatsAppStatusUpdated, { channel: Channel; messageId: string }>({
  schema: WhatsAppStatusUpdated,
  async prepare(deps, event) {
    const channel = await activeChannel(deps, 'whatsapp', event.data.accountId);
    if (!channel.ok) return channel;
    return { ok: true, value: { channel: channel.value, messageId: event.data.messageId } };
  },
  lockKeys: ({ channel, messageId }) => [`message:${channel.tenantId}:${messageId}`],
  async apply(tx, deps, items) {
    const results: Applied[] = [];
    for (const { event, value } of items) {
      const s = event.data;
      const key = { tenantId: value.channel.tenantId, provider: 'whatsapp', providerMessageId: s.messageId };
      const report = { status: s.status, at: new Date(s.at), errors: s.errors ?? null };
      const effects = await reportDeliveryStatus(tx, deps, key, report, event.id);
      // Every report is kept whole (conversation, pricing, errors), applied, held or stale.
      await recordDeliveryReport(tx, key.tenantId, event.id, s);
      results.push({ outcome: done, ...effects });
    }
    return results;
  },
});
