import { type CloudEvent, WhatsAppMessageReceived } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { dead } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import type { Deps } from '../deps.ts';
import { type KeyedMap, keyedMap } from '../keyed-map.ts';
import { toE164 } from '../phone.ts';
import {
  type ConversationRow,
  type InsertedMessage,
  insertMessages,
  type LiveConversationInput,
  type NewCustomer,
  touchLiveConversations,
  upsertCustomers,
} from '../store/batch.ts';
import { type HeldKey, takeHeldDeliveryStatuses } from '../store/held-delivery-statuses.ts';
import { lockMessageKeys } from '../store/messages.ts';
import { type Applied, route } from './route.ts';
import { announceMessages, type Landed } from './whatsapp-message-events.ts';

export interface Sender {
  channel: Channel;
  phone: string;
}

export type Item = { event: CloudEvent<WhatsAppMessageReceived>; value: Sender };

type CustomerKey = readonly [tenantId: string, phone: string];
type ConversationKey = readonly [channelId: string, customerId: string];

/**
 * Customers' WhatsApp messages: for the whole batch, customers, live conversations, messages,
 * any statuses that arrived before their message, and the events, in the batch's transaction.
 * Each step is one set-based statement whatever the batch size. The Redis lock per customer keeps
 * concurrent batches from queueing on the same rows; the unique indexes and conversation row
 * locks keep it correct without the lock.
 */
export const whatsappMessageRoute = route<WhatsAppMessageReceived, Sender>({
  schema: WhatsAppMessageReceived,
  async prepare(deps, event) {
    const m = event.data;
    const resolved = await activeChannel(deps, 'whatsapp', m.accountId);
    if (!resolved.ok) return resolved;
    const phone = toE164(m.from);
    if (!phone)
      return { ok: false, outcome: dead(`invalid_phone: sender ${JSON.stringify(m.from)} is not a phone number`) };
    return { ok: true, value: { channel: resolved.value, phone } };
  },
  lockKeys: ({ channel, phone }) => [`customer:${channel.tenantId}:${phone}`],
  apply: applyMessages,
});

async function applyMessages(tx: Executor, deps: Deps, items: Item[]): Promise<Applied[]> {
  const customers = await upsertSenders(tx, items);
  const customerOf = (v: Sender) => customers.require([v.channel.tenantId, v.phone], 'customer');
  const conversations = await touchSendersConversations(tx, items, customerOf);
  const landed = (item: Item): Landed => {
    const customerId = customerOf(item.value);
    return { customerId, conversation: conversations.require([item.value.channel.id, customerId], 'conversation') };
  };
  const stored = await storeMessages(tx, items, landed);
  const held = await takeHeldForBatch(tx, items);
  return announceMessages(tx, deps, items, { landed, stored, held });
}

/**
 * One customer per tenant and phone, created or renamed. Within a batch the latest profile name
 * wins, and a message without one keeps the name an earlier message gave.
 */
async function upsertSenders(tx: Executor, items: Item[]): Promise<KeyedMap<CustomerKey, string>> {
  const input = keyedMap<CustomerKey, NewCustomer>();
  for (const { event, value } of items) {
    const key: CustomerKey = [value.channel.tenantId, value.phone];
    input.set(key, {
      tenantId: value.channel.tenantId,
      phone: value.phone,
      whatsappId: event.data.from,
      name: event.data.profileName ?? input.get(key)?.name ?? null,
    });
  }
  const rows = await upsertCustomers(tx, [...input.values()]);
  return keyedMap(rows.map((c) => [[c.tenant_id, c.phone_e164] as const, c.id]));
}

/**
 * One live conversation per channel and customer, touched (or opened) once per batch, at the
 * latest time any of the batch's messages was sent in it.
 */
async function touchSendersConversations(
  tx: Executor,
  items: Item[],
  customerOf: (v: Sender) => string,
): Promise<KeyedMap<ConversationKey, ConversationRow>> {
  const input = keyedMap<ConversationKey, LiveConversationInput>();
  for (const { event, value } of items) {
    const customerId = customerOf(value);
    const key: ConversationKey = [value.channel.id, customerId];
    const at = new Date(event.data.sentAt);
    const prev = input.get(key);
    input.set(key, {
      tenantId: value.channel.tenantId,
      channelId: value.channel.id,
      customerId,
      provider: 'whatsapp',
      activityAt: prev && prev.activityAt > at ? prev.activityAt : at,
    });
  }
  const rows = await touchLiveConversations(tx, [...input.values()]);
  return keyedMap(rows.map((c) => [[c.channel_id, c.customer_id] as const, c]));
}

/** The batch's messages, inserted; a message id stored before (or twice in the batch) is stored once. */
async function storeMessages(
  tx: Executor,
  items: Item[],
  landed: (item: Item) => Landed,
): Promise<KeyedMap<HeldKey, InsertedMessage>> {
  const rows = await insertMessages(
    tx,
    items.map((item) => {
      const m = item.event.data;
      return {
        tenantId: item.value.channel.tenantId,
        conversationId: landed(item).conversation.id,
        direction: 'inbound' as const,
        provider: 'whatsapp',
        providerMessageId: m.messageId,
        type: m.type,
        body: m.text ?? null,
        content: m.raw,
        providerSentAt: new Date(m.sentAt),
      };
    }),
  );
  return keyedMap(rows.map((m) => [[m.tenant_id, m.provider_message_id] as const, m]));
}

/**
 * The statuses that overtook the batch's messages, taken under the messages' advisory locks: a
 * status reported concurrently is either held before this (and taken here) or finds the message.
 */
async function takeHeldForBatch(tx: Executor, items: Item[]) {
  const keys = items.map(({ event, value }) => ({
    tenantId: value.channel.tenantId,
    provider: 'whatsapp',
    providerMessageId: event.data.messageId,
  }));
  await lockMessageKeys(tx, keys);
  return takeHeldDeliveryStatuses(tx, 'whatsapp', keys);
}
