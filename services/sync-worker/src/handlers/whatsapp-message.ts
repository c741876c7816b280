import { WhatsAppMessageReceived } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { dead, done } from '@switchboard/platform';
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
import { learnBusinessAccounts } from '../store/business-accounts.ts';
import { type HeldKey, takeHeldDeliveryStatuses } from '../store/held-delivery-statuses.ts';
import { identityLockKeys, lockIdentities } from '../store/identity.ts';
import { lockMessageKeys } from '../store/messages.ts';
import { type Applied, route } from './route.ts';
import { identityKeysOf, type SenderIdentity } from './whatsapp-identity.ts';
import { announceMessages, type Landed } from './whatsapp-message-events.ts';
import type { Item, Sender } from './whatsapp-sender.ts';
import { isPhoneOnly, noticeOf, resolveIdentities } from './whatsapp-senders.ts';

type CustomerKey = readonly [tenantId: string, phone: string];
type ConversationKey = readonly [channelId: string, customerId: string];

/**
 * Customers' WhatsApp messages: for the whole batch, customers, live conversations, messages,
 * any statuses that arrived before their message, and the events, in the batch's transaction.
 * Senders known by phone alone are resolved in one set-based statement; senders with a user id,
 * and `user_changed_user_id` notices, one by one in delivery order through the identity rule
 * (whatsapp-identity.ts), under advisory locks on every id of the batch. The Redis locks keep
 * concurrent batches from queueing on the same rows; the advisory locks, unique indexes and
 * conversation row locks keep it correct without them.
 */
export const whatsappMessageRoute = route<WhatsAppMessageReceived, Sender>({
  schema: WhatsAppMessageReceived,
  async prepare(deps, event) {
    const m = event.data;
    const resolved = await activeChannel(deps, 'whatsapp', m.accountId);
    if (!resolved.ok) return resolved;
    const phone = (m.from === undefined ? undefined : toE164(m.from)) ?? undefined;
    const notice = noticeOf(m);
    if (m.from !== undefined && !phone && !m.fromUserId)
      return { ok: false, outcome: dead(`invalid_phone: sender ${JSON.stringify(m.from)} is not a phone number`) };
    if (!phone && !m.fromUserId && !notice)
      return { ok: false, outcome: dead('no_sender: the message names neither a phone number nor a user id') };
    const identity: SenderIdentity = {
      phone,
      whatsappId: phone ? m.from : undefined,
      userId: m.fromUserId,
      parentUserId: m.fromParentUserId,
      username: m.username,
      name: m.profileName,
    };
    return { ok: true, value: { channel: resolved.value, identity, notice } };
  },
  lockKeys: ({ channel, identity, notice }) =>
    identityLockKeys(identityKeysOf(channel.tenantId, identity, notice)).map((k) => `customer:${k}`),
  apply: applyMessages,
});

async function applyMessages(tx: Executor, deps: Deps, items: Item[]): Promise<Applied[]> {
  await lockIdentities(
    tx,
    items.flatMap(({ value: v }) => identityLockKeys(identityKeysOf(v.channel.tenantId, v.identity, v.notice))),
  );
  const learned = await learnBusinessAccounts(tx, items.flatMap(businessAccountOf), deps.businessAccounts);
  const byPhone = await upsertSenders(tx, items.filter(isPhoneOnly));
  const identities = await resolveIdentities(tx, deps, items);
  const customerOf = (item: Item) =>
    identities.follow(
      identities.customers.get(item) ??
        byPhone.require([item.value.channel.tenantId, item.value.identity.phone as string], 'customer'),
    );
  const messages = items.filter((i) => !i.value.notice);
  const conversations = await touchSendersConversations(tx, messages, customerOf);
  const landed = (item: Item): Landed => {
    const customerId = customerOf(item);
    return { customerId, conversation: conversations.require([item.value.channel.id, customerId], 'conversation') };
  };
  const stored = await storeMessages(tx, messages, landed);
  const held = await takeHeldForBatch(tx, messages);
  const announced = await announceMessages(tx, deps, messages, { landed, stored, held });
  const applied = items.map((item): Applied => {
    const identity = identities.effects.get(item) ?? { outbox: [], counts: [] };
    if (item.value.notice) return { outcome: done, ...identity };
    const a = announced[messages.indexOf(item)] as Applied;
    return { ...a, outbox: [...identity.outbox, ...a.outbox], counts: [...identity.counts, ...a.counts] };
  });
  // The batch's business accounts are remembered once it committed (any item carries the hook).
  const first = applied[0];
  if (learned && first) first.afterCommit = [...(first.afterCommit ?? []), learned];
  return applied;
}

const businessAccountOf = ({ event, value }: Item) =>
  event.data.businessAccountId
    ? [
        {
          businessAccountId: event.data.businessAccountId,
          tenantId: value.channel.tenantId,
          channelId: value.channel.id,
        },
      ]
    : [];

/**
 * One customer per tenant and phone, created or renamed. Within a batch the latest profile name
 * wins, and a message without one keeps the name an earlier message gave.
 */
async function upsertSenders(tx: Executor, items: Item[]): Promise<KeyedMap<CustomerKey, string>> {
  const input = keyedMap<CustomerKey, NewCustomer>();
  for (const { event, value } of items) {
    const phone = value.identity.phone as string;
    const key: CustomerKey = [value.channel.tenantId, phone];
    input.set(key, {
      tenantId: value.channel.tenantId,
      phone,
      whatsappId: event.data.from as string,
      name: event.data.profileName ?? input.get(key)?.name ?? null,
    });
  }
  if (input.size === 0) return keyedMap();
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
  customerOf: (item: Item) => string,
): Promise<KeyedMap<ConversationKey, ConversationRow>> {
  const input = keyedMap<ConversationKey, LiveConversationInput>();
  for (const item of items) {
    const { event, value } = item;
    const customerId = customerOf(item);
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
