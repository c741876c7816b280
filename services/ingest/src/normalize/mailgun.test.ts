import { MailgunEmailReceived, MailgunEventReceived } from '@switchboard/contracts';
import {
  deliveredEventData,
  failedPermanentEventData,
  failedTemporaryEventData,
  inboundFields,
} from '@switchboard/testing';
import { describe, expect, it } from 'vitest';
import { domainOf, type MailgunForm, normalizeMailgunFields, parseAddress } from './mailgun.ts';
import { normalizeMailgunEvent } from './mailgun-event.ts';

const form = (fields: Record<string, string>): MailgunForm => ({
  fields: new Map(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v])),
  attachments: [],
});

describe('parseAddress', () => {
  it.each([
    ['"Displayed From" <from+test@example.org>', { address: 'from+test@example.org', name: 'Displayed From' }],
    ['Lee <LEE@Example.ORG>', { address: 'lee@example.org', name: 'Lee' }],
    ['=?UTF-8?Q?J=C3=B6rg?= <j@example.de>', { address: 'j@example.de', name: 'Jörg' }],
    ['plain@example.com', { address: 'plain@example.com' }],
    ['Test Sender ', null],
    [undefined, null],
  ])('%j', (input, expected) => {
    expect(parseAddress(input)).toEqual(expected);
  });

  it('takes the domain of an address', () => {
    expect(domainOf('a@MG.Example.com')).toBe('mg.example.com');
    expect(domainOf('nodomain')).toBeUndefined();
  });
});

describe('normalizeMailgunFields', () => {
  it('produces a contract-valid event from the anymail forward', () => {
    const n = normalizeMailgunFields(form(inboundFields()));
    expect(n.ok).toBe(true);
    if (n.ok) expect(MailgunEmailReceived.parse(n.data)).toEqual(n.data);
  });

  it('derives a stable Message-ID when the sender left it out', () => {
    const fields = inboundFields({ 'message-headers': JSON.stringify([['From', 'a@example.org']]) });
    const a = normalizeMailgunFields(form(fields));
    const b = normalizeMailgunFields(form(fields));
    expect(a.ok && b.ok && a.data.messageId).toBe(b.ok && b.data.messageId);
    expect(a.ok && a.data.messageId).toMatch(/^derived-[0-9a-f]{32}@inbound\.example\.com$/);
  });

  it('reads two ids from In-Reply-To and decodes an encoded subject', () => {
    const n = normalizeMailgunFields(
      form(inboundFields({ 'In-Reply-To': '<a@x> <b@y>', subject: '=?UTF-8?B?UmU6IEFuZ2Vib3Qgw7xiZXI=?=' })),
    );
    expect(n.ok && n.data).toMatchObject({ inReplyTo: ['a@x', 'b@y'], subject: 'Re: Angebot über' });
  });

  it('reports a forward without a sender', () => {
    expect(normalizeMailgunFields(form({ recipient: 'x@mg.example.com' }))).toEqual({
      ok: false,
      reason: 'no sender address',
    });
  });
});

describe('normalizeMailgunEvent', () => {
  it.each([
    ['delivered (envelope sender)', deliveredEventData(), 'example.org'],
    ['permanent failure (domain from the Message-ID)', failedPermanentEventData(), 'example.org'],
    ['temporary failure', failedTemporaryEventData(), 'example.org'],
  ])('%s', (_n, data, domain) => {
    const n = normalizeMailgunEvent(data);
    expect(n.ok).toBe(true);
    if (n.ok) {
      expect(n.data.accountId).toBe(domain);
      expect(MailgunEventReceived.parse(n.data)).toEqual(n.data);
    }
  });

  it('keeps the brackets off the Message-ID and the timestamp exact to the millisecond', () => {
    const n = normalizeMailgunEvent(deliveredEventData({ message: { headers: { 'message-id': '<x@y.org>' } } }));
    expect(n.ok && n.data).toMatchObject({
      messageId: 'x@y.org',
      at: '2018-08-12T21:17:17.153Z',
      accountId: 'example.org',
    });
  });

  it.each([
    ['unknown kind', deliveredEventData({ event: 'stored' }), /unsupported event/],
    ['no message id', deliveredEventData({ message: { headers: {} } }), /event-data/],
    ['not an object', 'nope', /event-data/],
  ])('reports %s', (_n, data, reason) => {
    const n = normalizeMailgunEvent(data);
    expect(n.ok).toBe(false);
    if (!n.ok) expect(n.reason).toMatch(reason);
  });
});
