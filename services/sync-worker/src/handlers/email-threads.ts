import type { Executor } from '@switchboard/db';
import { ancestorChain, isReplySubject, normalizeSubject } from '@switchboard/domain';
import { createEmailConversations } from '../store/email.ts';
import { findBySubjects, findThreadAncestors, type ThreadHit } from '../store/email-round.ts';
import type { Email, Sent } from './email-round.ts';

/** How far back a reply may find its thread by subject alone. */
const SUBJECT_FALLBACK_MS = 30 * 86_400_000;

/** Where an email belongs: the conversation its thread is in (or a new one) and the message it answers. */
export interface Thread {
  conversationId: string;
  parentId: string | null;
  match: 'references' | 'subject' | 'new';
  /** Set when this email opened a new conversation. */
  openedAt: Date | null;
}

/**
 * One conversation per thread: the one holding a message the email cites (References /
 * In-Reply-To, JWZ), else by subject for a reply that cites nothing we hold, else a new one. An
 * email whose conversation an earlier email of the round already joined waits for the next round
 * (`deferred`), so no two of a round's emails write one conversation or one lead.
 */
export async function threadRound(
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
