import { MailgunEmailReceived } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { detectSignals, normalizeSubject } from '@switchboard/domain';
import { done, skipped } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import type { Deps } from '../deps.ts';
import { applyLeadEvents } from '../lead/apply.ts';
import { insertEmailMessages } from '../store/email.ts';
import { customersOfNewEmails } from '../store/email-round.ts';
import { lockMessageKeys } from '../store/messages.ts';
import { type Email, type Sent, takeRound } from './email-round.ts';
import { type Thread, threadRound } from './email-threads.ts';
import { announceOpened, domainEvent } from './events.ts';
import { type Applied, type Effects, route } from './route.ts';

/**
 * A customer's email: the customer by address, the conversation by the References/In-Reply-To
 * graph of that customer's messages (JWZ), by subject only for a reply that cites nothing we
 * hold, else a new conversation (one per thread); then the message, its parent link, the lead's
 * LEAD_REPLIED, and the events, in the batch's transaction.
 *
 * A batch's emails are applied in rounds (`takeRound`), each step of a round one statement for all
 * its emails. A round holds at most one email per sender and per conversation, so it gives what
 * applying its emails one after another gives: a customer's threads, and a lead's counts and
 * state, see every earlier email of the batch that touched them, and nothing of a later one.
 */
export const mailgunEmailRoute = route<MailgunEmailReceived, { channel: Channel; from: string }>({
  schema: MailgunEmailReceived,
  async prepare(deps, event) {
    const channel = await activeChannel(deps, 'mailgun', event.data.accountId);
    if (!channel.ok) return channel;
    return { ok: true, value: { channel: channel.value, from: event.data.from } };
  },
  lockKeys: ({ channel, from }) => [`email-customer:${channel.tenantId}:${from}`],
  async apply(tx, deps, items) {
    // Every email's message lock in one statement, in one sorted order (see `lockMessageKeys`), before
    // any of them is looked at: a copy delivered twice waits here for the first, then finds it stored.
    await lockMessageKeys(
      tx,
      items.map(({ event, value }) => ({
        tenantId: value.channel.tenantId,
        provider: 'mailgun',
        providerMessageId: event.data.messageId,
      })),
    );
    const results: Applied[] = new Array(items.length);
    let pending: Email[] = items.map(({ event, value }, index) => ({ index, m: event.data, channel: value.channel }));
    while (pending.length > 0) {
      const { round, rest } = takeRound(pending);
      const deferred = await applyRound(tx, deps, round, results);
      pending = [...deferred, ...rest].sort((a, b) => a.index - b.index);
    }
    return results;
  },
});

/**
 * One round: the customers (a stored copy is skipped here), the threads, the messages, the leads;
 * each email's result into `results` at its index. Returns the emails put off to the next round:
 * one whose thread is a conversation an earlier email of the round also joined.
 */
async function applyRound(tx: Executor, deps: Deps, round: Email[], results: Applied[]): Promise<Email[]> {
  const tenantId = (round[0] as Email).channel.tenantId;
  const customers = await customersOfNewEmails(
    tx,
    tenantId,
    round.map(({ m }) => ({ messageIdHeader: m.messageId, email: m.from, name: m.fromName ?? null })),
  );
  const sent: Sent[] = [];
  round.forEach((e, i) => {
    const customerId = customers[i] ?? null;
    if (customerId === null) results[e.index] = stored(e);
    else sent.push({ ...e, customerId });
  });
  if (sent.length === 0) return [];
  const { threads, deferred } = await threadRound(tx, tenantId, sent);
  const now = sent.filter((e) => threads.has(e.index));
  const bodies = now.map(({ m }) => m.strippedText ?? m.text ?? null);
  const storedNow = await storeEmails(tx, now, threads, bodies);
  const leads = await applyLeadEvents(
    tx,
    deps,
    tenantId,
    now.map((e, i) => ({
      conversationId: (threads.get(e.index) as Thread).conversationId,
      change: {
        event: 'LEAD_REPLIED' as const,
        trigger: { kind: 'provider' as const, id: 'mailgun' },
        at: new Date(e.m.sentAt),
        facts: { inbound: detectSignals(bodies[i] ?? null) },
        keepFactsOnReject: true,
      },
    })),
  );
  now.forEach((e, i) => {
    const thread = threads.get(e.index) as Thread;
    const effects = announceEmail(deps, e, thread, storedNow[i] as StoredEmail, bodies[i] ?? null);
    const lead = leads[i];
    if (lead) {
      effects.outbox.push(...lead.outbox);
      effects.counts.push(...lead.counts);
    }
    results[e.index] = { outcome: done, ...effects };
  });
  return deferred;
}

const stored = (e: Email): Applied => ({
  outcome: skipped(`email ${e.m.messageId} already stored`),
  outbox: [],
  counts: [],
});

type StoredEmail = { id: string; receivedAt: Date };

/** The emails as messages of their threads, linked to their parents, with what the customers sent kept whole. */
async function storeEmails(
  tx: Executor,
  now: Sent[],
  threads: Map<number, Thread>,
  bodies: Array<string | null>,
): Promise<StoredEmail[]> {
  const rows = await insertEmailMessages(
    tx,
    now.map(({ index, customerId, channel, m }, i) => {
      const thread = threads.get(index) as Thread;
      return {
        tenantId: channel.tenantId,
        conversationId: thread.conversationId,
        customerId,
        direction: 'inbound' as const,
        messageIdHeader: m.messageId,
        parentId: thread.parentId,
        inReplyTo: m.inReplyTo,
        references: m.references,
        subject: m.subject ?? null,
        normalizedSubject: normalizeSubject(m.subject),
        body: bodies[i] ?? null,
        content: {
          from: m.from,
          ...(m.fromName ? { fromName: m.fromName } : {}),
          recipient: m.recipient,
          subject: m.subject ?? null,
          text: m.text ?? null,
          html: m.html ?? null,
          attachments: m.attachments,
          format: m.format,
        },
        sentAt: new Date(m.sentAt),
      };
    }),
  );
  return now.map(({ m }) => {
    const row = rows.get(m.messageId);
    // Checked under the message's advisory lock (taken in `apply`), so a duplicate cannot get here.
    if (!row) throw new Error(`email ${m.messageId} was stored concurrently`);
    return row;
  });
}

/** `conversation.opened` when the email started a thread, then `message.received`; and their counts. */
function announceEmail(deps: Deps, e: Sent, thread: Thread, stored: StoredEmail, body: string | null): Effects {
  const { m, customerId } = e;
  const { conversationId } = thread;
  const meta = { tenantId: e.channel.tenantId, conversationId };
  const effects: Effects = {
    outbox: [],
    counts: [
      { metric: 'emailThreading', labels: { match: thread.match } },
      { metric: 'messagesStored', labels: { provider: 'mailgun', direction: 'inbound' } },
    ],
  };
  if (thread.openedAt)
    announceOpened(deps, effects, meta.tenantId, {
      conversationId,
      customerId,
      channelId: e.channel.id,
      provider: 'mailgun',
      status: 'open',
      openedAt: thread.openedAt.toISOString(),
    });
  effects.outbox.push(
    domainEvent(deps, 'message.received', meta, {
      messageId: stored.id,
      conversationId,
      customerId,
      provider: 'mailgun',
      providerMessageId: m.messageId,
      from: m.from,
      type: 'email',
      ...(body === null ? {} : { text: body }),
      sentAt: m.sentAt,
      receivedAt: stored.receivedAt.toISOString(),
    }),
  );
  return effects;
}
