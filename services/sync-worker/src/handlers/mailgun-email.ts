import { MailgunEmailReceived } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { ancestorChain, detectSignals, isReplySubject, normalizeSubject } from '@switchboard/domain';
import { done, skipped } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import type { Deps } from '../deps.ts';
import { applyLeadEvents } from '../lead/apply.ts';
import { createEmailConversations, insertEmailMessages } from '../store/email.ts';
import { customersOfNewEmails, findBySubjects, findThreadAncestors, type ThreadHit } from '../store/email-round.ts';
import { lockMessageKeys } from '../store/messages.ts';
import { type Email, takeRound } from './email-round.ts';
import { announceOpened, domainEvent } from './events.ts';
import { type Applied, type Effects, route } from './route.ts';

/** How far back a reply may find its thread by subject alone. */
const SUBJECT_FALLBACK_MS = 30 * 86_400_000;

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

/** Where an email belongs: the conversation its thread is in (or a new one) and the message it answers. */
interface Thread {
  conversationId: string;
  parentId: string | null;
  match: 'references' | 'subject' | 'new';
  /** Set when this email opened a new conversation. */
  openedAt: Date | null;
}

/** A new email of a round with its customer. */
type Sent = Email & { customerId: string };

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

/**
 * One conversation per thread: the one holding a message the email cites (References /
 * In-Reply-To, JWZ), else by subject for a reply that cites nothing we hold, else a new one. An
 * email whose conversation an earlier email of the round already joined waits for the next round
 * (`deferred`), so no two of a round's emails write one conversation or one lead.
 */
async function threadRound(
  tx: Executor,
  tenantId: string,
  sent: Sent[],
): Promise<{ threads: Map<number, Thread>; deferred: Email[] }> {
  const byRefs = await findThreadAncestors(
    tx,
    tenantId,
    sent.map(({ customerId, m }) => ({
      customerId,
      chain: ancestorChain({ messageId: m.messageId, references: m.references, inReplyTo: m.inReplyTo }),
    })),
  );
  const bySubject = await subjectFallback(tx, tenantId, sent, byRefs);
  const threads = new Map<number, Thread>();
  const joined = new Set<string>();
  const deferred: Email[] = [];
  const opening: Sent[] = [];
  sent.forEach((e, i) => {
    const refs = byRefs[i];
    const hit = refs ?? bySubject[i];
    if (!hit) opening.push(e);
    else if (joined.has(hit.conversationId)) deferred.push(e);
    else {
      joined.add(hit.conversationId);
      threads.set(e.index, threadOf(hit, refs ? 'references' : 'subject'));
    }
  });
  const opened = await createEmailConversations(
    tx,
    opening.map(({ channel, customerId, m }) => ({
      tenantId,
      channelId: channel.id,
      customerId,
      at: new Date(m.sentAt),
    })),
  );
  opening.forEach((e, i) => {
    const c = opened[i] as { id: string; openedAt: Date };
    threads.set(e.index, { conversationId: c.id, parentId: null, match: 'new', openedAt: c.openedAt });
  });
  return { threads, deferred };
}

const threadOf = (hit: ThreadHit, match: 'references' | 'subject'): Thread => ({
  conversationId: hit.conversationId,
  parentId: hit.messageId,
  match,
  openedAt: null,
});

/** JWZ's subject grouping, only for a message that says it is a reply and cites nothing we hold. */
async function subjectFallback(
  tx: Executor,
  tenantId: string,
  sent: Sent[],
  byRefs: Array<ThreadHit | null>,
): Promise<Array<ThreadHit | null>> {
  const asked = sent.map((e, i) => (byRefs[i] === null && isReplySubject(e.m.subject) ? i : -1)).filter((i) => i >= 0);
  const out: Array<ThreadHit | null> = sent.map(() => null);
  if (asked.length === 0) return out;
  const hits = await findBySubjects(
    tx,
    tenantId,
    asked.map((i) => {
      const { customerId, m } = sent[i] as Sent;
      const since = new Date(new Date(m.sentAt).getTime() - SUBJECT_FALLBACK_MS);
      return { customerId, normalizedSubject: normalizeSubject(m.subject), since };
    }),
  );
  asked.forEach((i, j) => {
    out[i] = hits[j] ?? null;
  });
  return out;
}

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
