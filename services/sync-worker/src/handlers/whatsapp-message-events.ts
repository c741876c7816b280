import type { Executor } from '@switchboard/db';
import { done, skipped } from '@switchboard/platform';
import type { Deps } from '../deps.ts';
import type { KeyedMap } from '../keyed-map.ts';
import type { ConversationRow, InsertedMessage } from '../store/batch.ts';
import type { HeldDeliveryStatus, HeldKey } from '../store/held-delivery-statuses.ts';
import { insertMedia, type MediaRow } from '../store/media.ts';
import { findMessageForUpdate } from '../store/messages.ts';
import { applyDeliveryReports } from './delivery-status.ts';
import { announceOpened, domainEvent, openedFrom } from './events.ts';
import type { Applied, Effects } from './route.ts';
import type { Item } from './whatsapp-sender.ts';

/** Where a message of the batch landed: its customer and live conversation. */
export interface Landed {
  customerId: string;
  conversation: ConversationRow;
}

/** What the batch's set-based steps left for the per-message step. */
export interface BatchRows {
  landed: (item: Item) => Landed;
  /** The messages stored by this batch, by tenant and provider id. */
  stored: KeyedMap<HeldKey, InsertedMessage>;
  held: KeyedMap<HeldKey, HeldDeliveryStatus[]>;
}

/** What was already announced in this batch: each message and each opened conversation once. */
interface Announced {
  messages: Set<string>;
  conversations: Set<string>;
  media: MediaRow[];
}

/**
 * Each message's effects, in delivery order: `conversation.opened` (the first message of a new
 * conversation), `message.received`, `media.download.requested`, then its held statuses. The
 * media rows of the whole batch are inserted at the end in one statement.
 */
export async function announceMessages(tx: Executor, deps: Deps, items: Item[], rows: BatchRows): Promise<Applied[]> {
  const announced: Announced = { messages: new Set(), conversations: new Set(), media: [] };
  const results: Applied[] = [];
  for (const item of items) results.push(await announceMessage(tx, deps, item, rows, announced));
  await insertMedia(tx, announced.media);
  return results;
}

async function announceMessage(
  tx: Executor,
  deps: Deps,
  item: Item,
  rows: BatchRows,
  announced: Announced,
): Promise<Applied> {
  const m = item.event.data;
  const tenantId = item.value.channel.tenantId;
  const message = rows.stored.get([tenantId, m.messageId]);
  // Stored by an earlier event (or twice in this batch): nothing more to do for this one.
  if (!message || announced.messages.has(message.id)) {
    return { outcome: skipped(`message ${m.messageId} already stored`), outbox: [], counts: [] };
  }
  announced.messages.add(message.id);
  const landed = rows.landed(item);
  const effects: Effects = {
    outbox: [],
    counts: [{ metric: 'messagesStored', labels: { provider: 'whatsapp', direction: 'inbound' } }],
  };
  if (landed.conversation.created && !announced.conversations.has(landed.conversation.id)) {
    announced.conversations.add(landed.conversation.id);
    announceOpened(deps, effects, item.value.channel.tenantId, openedFrom(landed.conversation, 'whatsapp'));
  }
  effects.outbox.push(receivedEvent(deps, item, landed, message));
  if (m.media) requestMediaDownload(deps, item, landed, message, effects, announced.media);
  const held = rows.held.get([tenantId, m.messageId]) ?? [];
  if (held.length > 0)
    await applyHeld(tx, deps, { tenantId, provider: 'whatsapp', providerMessageId: m.messageId }, held, effects);
  return { outcome: done, ...effects };
}

const metaOf = (item: Item, landed: Landed) => ({
  tenantId: item.value.channel.tenantId,
  conversationId: landed.conversation.id,
});

const receivedEvent = (deps: Deps, item: Item, landed: Landed, message: InsertedMessage) => {
  const m = item.event.data;
  const c = landed.conversation;
  return domainEvent(deps, 'message.received', metaOf(item, landed), {
    messageId: message.id,
    conversationId: c.id,
    customerId: landed.customerId,
    provider: 'whatsapp',
    providerMessageId: m.messageId,
    ...(c.genesys_conversation_id ? { genesysConversationId: c.genesys_conversation_id } : {}),
    ...senderFields(item),
    type: m.type,
    ...(m.text === undefined ? {} : { text: m.text }),
    sentAt: m.sentAt,
    receivedAt: message.received_at.toISOString(),
  });
};

/** `from` is the phone, else the user id (a username-only customer); each id the sender has, by name. */
function senderFields({ value: { identity: s } }: Item) {
  return {
    from: (s.phone ?? s.userId) as string,
    ...(s.phone ? { phone: s.phone } : {}),
    ...(s.userId ? { userId: s.userId } : {}),
    ...(s.parentUserId ? { parentUserId: s.parentUserId } : {}),
    ...(s.username ? { username: s.username } : {}),
  };
}

/** A message with media: its media row, and a request for the media worker to fetch it. */
function requestMediaDownload(
  deps: Deps,
  item: Item,
  landed: Landed,
  message: InsertedMessage,
  effects: Effects,
  mediaRows: MediaRow[],
): void {
  const m = item.event.data;
  const media = m.media;
  if (!media) return;
  mediaRows.push({ messageId: message.id, tenantId: item.value.channel.tenantId, provider: 'whatsapp', media });
  effects.outbox.push(
    domainEvent(deps, 'media.download.requested', metaOf(item, landed), {
      messageId: message.id,
      conversationId: landed.conversation.id,
      accountId: m.accountId,
      provider: 'whatsapp',
      kind: media.kind,
      mediaId: media.id,
      ...(media.mimeType ? { mimeType: media.mimeType } : {}),
      ...(media.sha256 ? { sha256: media.sha256 } : {}),
      ...(media.filename ? { filename: media.filename } : {}),
      requestedAt: deps.now().toISOString(),
    }),
  );
}

/** Statuses that arrived before the message, applied now that it is stored (same rule, same events). */
async function applyHeld(
  tx: Executor,
  deps: Deps,
  key: { tenantId: string; provider: string; providerMessageId: string },
  held: HeldDeliveryStatus[],
  effects: Effects,
): Promise<void> {
  const row = await findMessageForUpdate(tx, key);
  if (!row) return;
  const applied = await applyDeliveryReports(tx, deps, key, row, held);
  effects.outbox.push(...applied.events);
  effects.counts.push(...applied.counts);
}
