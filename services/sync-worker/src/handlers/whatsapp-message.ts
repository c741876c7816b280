import type { CloudEvent, WhatsAppMessageReceived } from '@switchboard/contracts';
import { appendOutbox, claimInbox, type OutboxEntry } from '@switchboard/db';
import { dead, done, type Outcome, skipped } from '@switchboard/platform';
import { CONSUMER, type Deps } from '../deps.ts';
import { toE164 } from '../phone.ts';
import { touchLiveConversation } from '../store/conversations.ts';
import { upsertCustomer } from '../store/customers.ts';
import { findMessageForUpdate, insertMessage, lockMessageKey, takeHeldStatuses } from '../store/messages.ts';
import { applyStatuses } from './delivery.ts';
import { domainEvent } from './events.ts';
import { AlreadyApplied } from './route.ts';

/**
 * A customer's WhatsApp message: customer, live conversation, message, any statuses that arrived
 * before it, and the events, all in one transaction with the inbox claim. The Redis lock on the
 * customer keeps concurrent messages of one customer from queueing on the same rows; the unique
 * indexes and the conversation row lock keep it correct without the lock.
 */
export async function handleWhatsAppMessage(deps: Deps, event: CloudEvent<WhatsAppMessageReceived>): Promise<Outcome> {
  const m = event.data;
  const channel = await deps.resolveChannel('whatsapp', m.accountId);
  if (!channel) return dead(`unknown_channel: no WhatsApp channel for phone_number_id ${m.accountId}`);
  if (channel.status !== 'active') return dead(`channel_disabled: channel ${channel.id} is ${channel.status}`);
  const phone = toE164(m.from);
  if (!phone) return dead(`invalid_phone: sender ${JSON.stringify(m.from)} is not a phone number`);
  const tenantId = channel.tenantId;
  const key = { tenantId, provider: 'whatsapp', providerMessageId: m.messageId };
  const sentAt = new Date(m.sentAt);

  const work = () =>
    deps.db.transaction(async (tx) => {
      if (!(await claimInbox(tx, CONSUMER, event.id))) return skipped('duplicate event');
      const customer = await upsertCustomer(tx, {
        tenantId,
        phoneE164: phone,
        whatsappId: m.from,
        ...(m.profileName ? { name: m.profileName } : {}),
      });
      const conversation = await touchLiveConversation(
        tx,
        { tenantId, channelId: channel.id, customerId: customer.id, provider: 'whatsapp' },
        sentAt,
      );
      const stored = await insertMessage(tx, {
        tenantId,
        conversationId: conversation.id,
        direction: 'inbound',
        provider: 'whatsapp',
        providerMessageId: m.messageId,
        type: m.type,
        body: m.text ?? null,
        content: m.raw,
        providerSentAt: sentAt,
      });
      if (!stored) throw new AlreadyApplied(`message ${m.messageId} already stored`);

      const meta = { tenantId, conversationId: conversation.id };
      const outbox: OutboxEntry[] = [];
      if (conversation.created) {
        outbox.push(
          domainEvent(deps, 'conversation.opened', meta, {
            conversationId: conversation.id,
            customerId: customer.id,
            channelId: channel.id,
            provider: 'whatsapp',
            status: conversation.status,
            openedAt: conversation.openedAt.toISOString(),
          }),
        );
      }
      outbox.push(
        domainEvent(deps, 'message.received', meta, {
          messageId: stored.id,
          conversationId: conversation.id,
          customerId: customer.id,
          provider: 'whatsapp',
          providerMessageId: m.messageId,
          ...(conversation.genesysConversationId ? { genesysConversationId: conversation.genesysConversationId } : {}),
          from: phone,
          type: m.type,
          ...(m.text === undefined ? {} : { text: m.text }),
          sentAt: m.sentAt,
          receivedAt: stored.receivedAt.toISOString(),
        }),
      );

      await lockMessageKey(tx, key);
      const held = await takeHeldStatuses(tx, key);
      if (held.length > 0) {
        const row = await findMessageForUpdate(tx, key);
        if (row) outbox.push(...(await applyStatuses(tx, deps, key, row, held)));
      }
      await appendOutbox(tx, outbox);
      deps.metrics.messagesStored.inc({ provider: 'whatsapp', direction: 'inbound' });
      if (conversation.created) deps.metrics.conversationsOpened.inc({ provider: 'whatsapp' });
      return done;
    });

  try {
    return await deps.locks.withLocks([`customer:${tenantId}:${phone}`], { ...deps.lock, scope: 'customer' }, work);
  } catch (err) {
    if (err instanceof AlreadyApplied) return skipped(err.message);
    throw err;
  }
}
