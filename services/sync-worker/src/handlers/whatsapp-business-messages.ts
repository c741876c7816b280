import { type CloudEvent, WhatsAppHistoryMessage, WhatsAppMessageEchoed } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { dead, done, skipped } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import type { Deps } from '../deps.ts';
import { insertMessages, touchLiveConversations } from '../store/batch.ts';
import { historyConversation } from '../store/history.ts';
import { lockIdentities } from '../store/identity.ts';
import { announceOpened, domainEvent, openedFrom } from './events.ts';
import { type Applied, route } from './route.ts';
import { lockKeysOf, peerIdentity, resolveCustomer, type SenderIdentity } from './whatsapp-identity.ts';

/**
 * What the business wrote in the WhatsApp Business app (message echoes) and the chat history
 * shared at onboarding: both name the customer on the other side (phone, user id or both) and
 * land on that customer's conversation, through the same identity rule as customers' messages.
 */
interface Peer {
  channel: Channel;
  identity: SenderIdentity;
}

type PeerData = WhatsAppMessageEchoed | WhatsAppHistoryMessage;

async function preparePeer(deps: Deps, event: CloudEvent<PeerData>) {
  const m = event.data;
  const channel = await activeChannel(deps, 'whatsapp', m.accountId);
  if (!channel.ok) return channel;
  const identity = peerIdentity({
    phone: m.to,
    userId: m.toUserId,
    parentUserId: m.toParentUserId,
    username: m.username,
    name: m.profileName,
  });
  if (!identity)
    return { ok: false as const, outcome: dead('no_recipient: names neither a phone number nor a user id') };
  return { ok: true as const, value: { channel: channel.value, identity } };
}

const lockKeys = ({ channel, identity }: Peer) => lockKeysOf(channel.tenantId, identity).map((k) => `customer:${k}`);

/** Each item's customer, resolved in delivery order under the advisory locks of all of them. */
async function customersOf<T extends PeerData>(
  tx: Executor,
  deps: Deps,
  items: Array<{ event: CloudEvent<T>; value: Peer }>,
) {
  await lockIdentities(
    tx,
    items.flatMap(({ value }) => lockKeysOf(value.channel.tenantId, value.identity)),
  );
  const out = [];
  for (const { event, value } of items) {
    const at = { eventId: event.id, at: new Date(event.data.sentAt) };
    out.push(await resolveCustomer(tx, deps, value.channel.tenantId, value.identity, undefined, at));
  }
  return out;
}

/**
 * A message echo: an outbound message on the customer's live conversation (opened if none), and
 * `message.sent` with origin `business_app`, so the store and downstream see what the business
 * answered from the app. Keyed by its `wamid`, so its statuses find it like any other's.
 */
export const whatsappEchoRoute = route<WhatsAppMessageEchoed, Peer>({
  schema: WhatsAppMessageEchoed,
  prepare: preparePeer,
  lockKeys,
  async apply(tx, deps, items) {
    const customers = await customersOf(tx, deps, items);
    const out: Applied[] = [];
    for (const [k, { event, value }] of items.entries()) {
      const m = event.data;
      const { customerId, effects } = customers[k] as (typeof customers)[number];
      const sentAt = new Date(m.sentAt);
      const [conversation] = await touchLiveConversations(
        tx,
        [
          {
            tenantId: value.channel.tenantId,
            channelId: value.channel.id,
            customerId,
            provider: 'whatsapp',
            activityAt: sentAt,
          },
        ],
        { source: 'system', reason: 'message sent from the WhatsApp Business app' },
      );
      if (!conversation) throw new Error('no live conversation for the echo');
      const [stored] = await insertMessages(tx, [
        {
          tenantId: value.channel.tenantId,
          conversationId: conversation.id,
          direction: 'outbound',
          provider: 'whatsapp',
          providerMessageId: m.messageId,
          type: m.type,
          body: m.text ?? null,
          content: { ...m.raw, origin: 'business_app' },
          providerSentAt: sentAt,
        },
      ]);
      if (!stored) {
        out.push({ outcome: skipped(`message ${m.messageId} already stored`), ...effects });
        continue;
      }
      const meta = { tenantId: value.channel.tenantId, conversationId: conversation.id };
      if (conversation.created) announceOpened(deps, effects, meta.tenantId, openedFrom(conversation, 'whatsapp'));
      effects.outbox.push(
        domainEvent(deps, 'message.sent', meta, {
          messageId: stored.id,
          conversationId: conversation.id,
          customerId,
          provider: 'whatsapp',
          origin: 'business_app',
          originMessageId: m.messageId,
          author: { kind: 'system', id: 'business_app' },
          type: m.type,
          ...(m.text === undefined ? {} : { text: m.text }),
          sentAt: m.sentAt,
          recordedAt: stored.received_at.toISOString(),
        }),
      );
      effects.counts.push({ metric: 'messagesStored', labels: { provider: 'whatsapp', direction: 'outbound' } });
      out.push({ outcome: done, ...effects });
    }
    return out;
  },
});

/**
 * A history message: the past, stored without live effects. It goes to the customer's latest
 * conversation on the channel without touching its activity (no inactivity reset), or to a closed
 * conversation of its own when the customer has none; no `message.received` or `message.sent`,
 * so nothing is queued, assigned or reopened by it.
 */
export const whatsappHistoryRoute = route<WhatsAppHistoryMessage, Peer>({
  schema: WhatsAppHistoryMessage,
  prepare: preparePeer,
  lockKeys,
  async apply(tx, deps, items) {
    const customers = await customersOf(tx, deps, items);
    const out: Applied[] = [];
    for (const [k, { event, value }] of items.entries()) {
      const m = event.data;
      const { customerId, effects } = customers[k] as (typeof customers)[number];
      const sentAt = new Date(m.sentAt);
      const conversationId = await historyConversation(tx, {
        tenantId: value.channel.tenantId,
        channelId: value.channel.id,
        customerId,
        at: sentAt,
      });
      const [stored] = await insertMessages(tx, [
        {
          tenantId: value.channel.tenantId,
          conversationId,
          direction: m.direction,
          provider: 'whatsapp',
          providerMessageId: m.messageId,
          type: m.type,
          body: m.text ?? null,
          content: { ...m.raw, origin: 'history' },
          providerSentAt: sentAt,
        },
      ]);
      if (stored)
        effects.counts.push({ metric: 'messagesStored', labels: { provider: 'whatsapp', direction: m.direction } });
      out.push({ outcome: stored ? done : skipped(`message ${m.messageId} already stored`), ...effects });
    }
    return out;
  },
});
