import type { MailgunEmailReceived } from '@switchboard/contracts';
import type { Channel } from '@switchboard/worker';

/** An inbound email of a batch, with its position in the batch. */
export interface Email {
  index: number;
  m: MailgunEmailReceived;
  channel: Channel;
}

/** A new email of a round with its customer. */
export type Sent = Email & { customerId: string };

/**
 * The next round of a batch's pending emails (in batch order): each email whose sender has no
 * earlier email pending and whose Message-ID no earlier email of the round carries. Its emails
 * share no customer (one address, one customer), so the round's set-based steps give what applying
 * them one by one gives; the rest wait, each sender's emails staying in batch order (a reply then
 * finds its parent stored by the round before). A copy of an email waits for the first, which it
 * then finds stored. The first pending email is always taken, so rounds end.
 */
export function takeRound(pending: Email[]): { round: Email[]; rest: Email[] } {
  const senders = new Set<string>();
  const ids = new Set<string>();
  const round: Email[] = [];
  const rest: Email[] = [];
  for (const e of pending) {
    const sender = JSON.stringify([e.channel.tenantId, e.m.from]);
    const id = JSON.stringify([e.channel.tenantId, e.m.messageId]);
    const free = !senders.has(sender) && !ids.has(id);
    senders.add(sender);
    if (free) {
      ids.add(id);
      round.push(e);
    } else rest.push(e);
  }
  return { round, rest };
}
