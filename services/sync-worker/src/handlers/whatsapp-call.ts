import { WhatsAppCallUpdated } from '@switchboard/contracts';
import { dead, done, skipped } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import { touchLiveConversations } from '../store/batch.ts';
import { recordCall } from '../store/calls.ts';
import { lockIdentities } from '../store/identity.ts';
import { announceOpened, domainEvent, openedFrom } from './events.ts';
import { type Applied, route } from './route.ts';
import { lockKeysOf, peerIdentity, resolveCustomer, type SenderIdentity } from './whatsapp-identity.ts';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : undefined);

/**
 * A WhatsApp call's event, on the customer's live conversation (a call is contact like a
 * message: it opens one when there is none and counts as activity): the call's row moves forward
 * (connect, then terminate) and each change is published as `conversation.call.recorded`.
 */
export const whatsappCallRoute = route<WhatsAppCallUpdated, { channel: Channel; identity: SenderIdentity }>({
  schema: WhatsAppCallUpdated,
  async prepare(deps, event) {
    const c = event.data;
    const channel = await activeChannel(deps, 'whatsapp', c.accountId);
    if (!channel.ok) return channel;
    const identity = peerIdentity({ ...c.customer, name: c.customer.profileName });
    if (!identity)
      return { ok: false, outcome: dead('no_customer: the call names neither a phone number nor a user id') };
    return { ok: true, value: { channel: channel.value, identity } };
  },
  lockKeys: ({ channel, identity }) => lockKeysOf(channel.tenantId, identity).map((k) => `customer:${k}`),
  async apply(tx, deps, items) {
    await lockIdentities(
      tx,
      items.flatMap(({ value }) => lockKeysOf(value.channel.tenantId, value.identity)),
    );
    const out: Applied[] = [];
    for (const { event, value } of items) {
      const c = event.data;
      const tenantId = value.channel.tenantId;
      const at = new Date(c.at);
      const { customerId, effects } = await resolveCustomer(tx, deps, tenantId, value.identity, undefined, {
        eventId: event.id,
        at,
      });
      const [conversation] = await touchLiveConversations(tx, [
        { tenantId, channelId: value.channel.id, customerId, provider: 'whatsapp', activityAt: at },
      ]);
      if (!conversation) throw new Error('no live conversation for the call');
      const meta = { tenantId, conversationId: conversation.id };
      if (conversation.created) announceOpened(deps, effects, meta.tenantId, openedFrom(conversation, 'whatsapp'));
      const row = await recordCall(tx, {
        tenantId,
        conversationId: conversation.id,
        callId: c.callId,
        direction: c.direction,
        event: c.event,
        status: c.status,
        startedAt: c.startedAt ? new Date(c.startedAt) : undefined,
        endedAt: c.endedAt ? new Date(c.endedAt) : undefined,
        durationSeconds: c.durationSeconds,
        raw: c.raw,
      });
      if (!row) {
        out.push({ outcome: skipped(`call ${c.callId} is already past ${c.event}`), ...effects });
        continue;
      }
      effects.outbox.push(
        domainEvent(deps, 'conversation.call.recorded', meta, {
          conversationId: row.conversation_id,
          customerId,
          provider: 'whatsapp',
          callId: c.callId,
          event: row.event,
          direction: c.direction,
          ...(row.status ? { status: row.status } : {}),
          ...(row.started_at ? { startedAt: iso(row.started_at) } : {}),
          ...(row.ended_at ? { endedAt: iso(row.ended_at) } : {}),
          ...(row.duration_seconds === null ? {} : { durationSeconds: row.duration_seconds }),
          at: c.at,
        }),
      );
      effects.counts.push({
        metric: 'callsRecorded',
        labels: { provider: 'whatsapp', event: countedEvent(row.event) },
      });
      out.push({ outcome: done, ...effects });
    }
    return out;
  },
});

/** Bounded label values: the two events Meta documents, anything else as `other`. */
const countedEvent = (e: string) => (e === 'connect' || e === 'terminate' ? e : 'other');
