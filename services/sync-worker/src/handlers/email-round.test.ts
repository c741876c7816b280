import type { MailgunEmailReceived } from '@switchboard/contracts';
import type { Channel } from '@switchboard/worker';
import { describe, expect, it } from 'vitest';
import { type Email, takeRound } from './email-round.ts';

const channel = (tenantId: string) => ({ id: `ch-${tenantId}`, tenantId }) as Channel;
const email = (index: number, from: string, messageId: string, tenantId = 't1'): Email => ({
  index,
  m: { from, messageId } as MailgunEmailReceived,
  channel: channel(tenantId),
});
const indexes = (emails: Email[]) => emails.map((e) => e.index);

/** Every round of `pending`, as `mailgun-email.ts` takes them when nothing is put off. */
function rounds(pending: Email[]): number[][] {
  const out: number[][] = [];
  let rest = pending;
  while (rest.length > 0) {
    const next = takeRound(rest);
    out.push(indexes(next.round));
    rest = next.rest;
  }
  return out;
}

describe('takeRound', () => {
  it('takes every email of distinct senders at once', () => {
    expect(rounds([email(0, 'a', 'm0'), email(1, 'b', 'm1'), email(2, 'c', 'm2')])).toEqual([[0, 1, 2]]);
  });

  it("keeps a sender's emails in batch order, one per round", () => {
    const batch = [email(0, 'a', 'm0'), email(1, 'b', 'm1'), email(2, 'a', 'm2'), email(3, 'a', 'm3')];
    expect(rounds(batch)).toEqual([[0, 1], [2], [3]]);
  });

  it('puts a copy of an email (same Message-ID) in a later round, whoever sent it', () => {
    const batch = [email(0, 'a', 'same'), email(1, 'b', 'same'), email(2, 'c', 'other')];
    expect(rounds(batch)).toEqual([[0, 2], [1]]);
  });

  it("holds back a sender's later emails while an earlier one waits", () => {
    // b's first email waits for a's copy to be stored; b's second may not overtake it.
    const batch = [email(0, 'a', 'same'), email(1, 'b', 'same'), email(2, 'b', 'm2')];
    expect(rounds(batch)).toEqual([[0], [1], [2]]);
  });

  it('tells the same address in two tenants apart', () => {
    expect(rounds([email(0, 'a', 'm0', 't1'), email(1, 'a', 'm0', 't2')])).toEqual([[0, 1]]);
  });
});
