import { WhatsAppMessageReceived } from '@switchboard/contracts';
import type { OutboxEntry } from '@switchboard/db';
import { dead, done, skipped } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import type { Count } from '../metrics.ts';
import { toE164 } from '../phone.ts';
import {
  insertMessages,
  lockMessageKeys,
  takeHeldStatusesMany,
  touchLiveConversations,
  upsertCustomers,
} from '../store/batch.ts';
import { insertMedia, type MediaRow } from '../store/media.ts';
import { findMessageForUpdate, messageLockKey } from '../store/messages.ts';
import { applyStatuses } from './delivery.ts';
import { domainEvent } from './events.ts';
import { type Applied, route } from './route.ts';

interface Prepared {
  channel: Channel;
  phone: string;
}

/**
 * Customers' WhatsApp messages: for the whole batch, customers, live conversations, messages,
 * any statuses that arrived before their message, and the events, in the batch's transaction.
 * The Redis lock per customer keeps concurrent batches from queueing on the same rows; the
 * unique indexes and conversation row locks keep it correct without the lock.
 */
export const whatsappMessageRoute = route<WhatsAppMessageReceived, Prepared>({
  schema: WhatsAppMessageReceived,
  async prepare(deps, event) {
    const m = event.data;
    const resolved = await activeChannel(deps, 'whatsapp', m.accountId);
    if (!resolved.ok) return resolved;
    const channel = resolved.value;
    const phone = toE164(m.from);
    if (!phone)
      return { ok: false, outcome: dead(`invalid_phone: sender ${JSON.stringify(m.from)} is not a phone number`) };
    return { ok: true, value: { channel, phone } };
  },
  lockKeys: ({ channel, phone }) => [`customer:${channel.tenantId}:${phone}`],
  async apply(tx, deps, items) {
    const customerInput = new Map<
      string,
      { tenantId: string; phone: string; whatsappId: string; name: string | null }
    >();
    for (const { event, value } of items) {
      customerInput.set(`${value.channel.tenantId}/${value.phone}`, {
        tenantId: value.channel.tenantId,
        phone: value.phone,
        whatsappId: event.data.from,
        name: event.data.profileName ?? customerInput.get(`${value.channel.tenantId}/${value.phone}`)?.name ?? null,
      });
    }
    const customers = new Map(
      (await upsertCustomers(tx, [...customerInput.values()])).map((c) => [`${c.tenant_id}/${c.phone_e164}`, c.id]),
    );
    const customerOf = (v: Prepared) => {
      const id = customers.get(`${v.channel.tenantId}/${v.phone}`);
      if (!id) throw new Error('customer missing after upsert');
      return id;
    };

    const conversationInput = new Map<string, Parameters<typeof touchLiveConversations>[1][number]>();
    for (const { event, value } of items) {
      const key = `${value.channel.id}/${customerOf(value)}`;
      const at = new Date(event.data.sentAt);
      const prev = conversationInput.get(key);
      conversationInput.set(key, {
        tenantId: value.channel.tenantId,
        channelId: value.channel.id,
        customerId: customerOf(value),
        provider: 'whatsapp',
        activityAt: prev && prev.activityAt > at ? prev.activityAt : at,
      });
    }
    const conversations = new Map(
      (await touchLiveConversations(tx, [...conversationInput.values()])).map((c) => [
        `${c.channel_id}/${c.customer_id}`,
        c,
      ]),
    );
    const conversationOf = (v: Prepared) => {
      const c = conversations.get(`${v.channel.id}/${customerOf(v)}`);
      if (!c) throw new Error('conversation missing after touch');
      return c;
    };

    const stored = new Map(
      (
        await insertMessages(
          tx,
          items.map(({ event, value }) => ({
            tenantId: value.channel.tenantId,
            conversationId: conversationOf(value).id,
            direction: 'inbound' as const,
            provider: 'whatsapp',
            providerMessageId: event.data.messageId,
            type: event.data.type,
            body: event.data.text ?? null,
            content: event.data.raw,
            providerSentAt: new Date(event.data.sentAt),
          })),
        )
      ).map((m) => [`${m.tenant_id}/${m.provider_message_id}`, m]),
    );

    const keys = items.map(({ event, value }) => ({
      tenantId: value.channel.tenantId,
      provider: 'whatsapp',
      providerMessageId: event.data.messageId,
    }));
    await lockMessageKeys(tx, keys.map(messageLockKey));
    const heldByKey = await takeHeldStatusesMany(tx, 'whatsapp', keys);

    const announced = new Set<string>();
    const media: MediaRow[] = [];
    const results: Applied[] = [];
    for (const [i, { event, value }] of items.entries()) {
      const m = event.data;
      const key = keys[i] as (typeof keys)[number];
      const message = stored.get(`${key.tenantId}/${m.messageId}`);
      // Stored by an earlier event (or twice in this batch): nothing more to do for this one.
      if (!message || announced.has(message.id)) {
        results.push({ outcome: skipped(`message ${m.messageId} already stored`), outbox: [], counts: [] });
        continue;
      }
      announced.add(message.id);
      const conversation = conversationOf(value);
      const meta = { tenantId: key.tenantId, conversationId: conversation.id };
      const outbox: OutboxEntry[] = [];
      const counts: Count[] = [{ metric: 'messagesStored', labels: { provider: 'whatsapp', direction: 'inbound' } }];
      if (conversation.created && !announced.has(conversation.id)) {
        announced.add(conversation.id);
        outbox.push(
          domainEvent(deps, 'conversation.opened', meta, {
            conversationId: conversation.id,
            customerId: customerOf(value),
            channelId: value.channel.id,
            provider: 'whatsapp',
            status: conversation.status,
            openedAt: new Date(conversation.opened_at).toISOString(),
          }),
        );
        counts.push({ metric: 'conversationsOpened', labels: { provider: 'whatsapp' } });
      }
      outbox.push(
        domainEvent(deps, 'message.received', meta, {
          messageId: message.id,
          conversationId: conversation.id,
          customerId: customerOf(value),
          provider: 'whatsapp',
          providerMessageId: m.messageId,
          ...(conversation.genesys_conversation_id
            ? { genesysConversationId: conversation.genesys_conversation_id }
            : {}),
          from: value.phone,
          type: m.type,
          ...(m.text === undefined ? {} : { text: m.text }),
          sentAt: m.sentAt,
          receivedAt: message.received_at.toISOString(),
        }),
      );
      if (m.media) {
        media.push({ messageId: message.id, tenantId: key.tenantId, provider: 'whatsapp', media: m.media });
        outbox.push(
          domainEvent(deps, 'media.download.requested', meta, {
            messageId: message.id,
            conversationId: conversation.id,
            accountId: m.accountId,
            provider: 'whatsapp',
            kind: m.media.kind,
            mediaId: m.media.id,
            ...(m.media.mimeType ? { mimeType: m.media.mimeType } : {}),
            ...(m.media.sha256 ? { sha256: m.media.sha256 } : {}),
            ...(m.media.filename ? { filename: m.media.filename } : {}),
            requestedAt: deps.now().toISOString(),
          }),
        );
      }
      const held = heldByKey.get(`${key.tenantId}/${m.messageId}`) ?? [];
      if (held.length > 0) {
        const row = await findMessageForUpdate(tx, key);
        if (row) {
          const applied = await applyStatuses(tx, deps, key, row, held);
          outbox.push(...applied.events);
          counts.push(...applied.counts);
        }
      }
      results.push({ outcome: done, outbox, counts });
    }
    await insertMedia(tx, media);
    return results;
  },
});
