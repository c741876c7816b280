import { WhatsAppMessageReceived, WhatsAppStatusUpdated } from '@switchboard/contracts';
import { statusFixtures, valueErrorsFixture, whatsappFixturePayload, whatsappFixtures } from '@switchboard/testing';
import { describe, expect, it } from 'vitest';
import { normalizeWhatsApp } from './whatsapp.ts';

/** What each documented payload shape must become; the fixtures name their sources. */
const expected: Record<string, Partial<WhatsAppMessageReceived>> = {
  text: { type: 'text', text: 'this is a text message' },
  reaction: { type: 'reaction', text: '\u{1F600}', reaction: { messageId: 'wamid.fx-text', emoji: '\u{1F600}' } },
  'reaction removed': { type: 'reaction', reaction: { messageId: 'wamid.fx-text' } },
  image: {
    text: 'This is a caption',
    media: {
      kind: 'image',
      id: '2754859441498128',
      mimeType: 'image/jpeg',
      sha256: '81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3',
      caption: 'This is a caption',
    },
  },
  audio: { media: expect.objectContaining({ kind: 'audio', id: '1200481327413561', mimeType: 'audio/mpeg' }) },
  voice: { media: expect.objectContaining({ kind: 'audio', voice: true, mimeType: 'audio/ogg; codecs=opus' }) },
  video: { text: 'our video', media: expect.objectContaining({ kind: 'video', caption: 'our video' }) },
  document: {
    text: 'the invoice',
    media: expect.objectContaining({ kind: 'document', filename: 'invoice-2020-10.pdf', mimeType: 'application/pdf' }),
  },
  sticker: { media: expect.objectContaining({ kind: 'sticker', mimeType: 'image/webp', animated: false }) },
  location: {
    text: 'Philz Coffee',
    location: {
      latitude: 37.483307,
      longitude: 122.148981,
      name: 'Philz Coffee',
      address: '101 Forest Ave, Palo Alto, CA 94301',
    },
  },
  contacts: {
    contacts: [expect.objectContaining({ name: expect.objectContaining({ formatted_name: 'Barbara J. Johnson' }) })],
  },
  'interactive button reply': {
    text: 'button-text',
    reply: { kind: 'button_reply', id: 'unique-button-identifier-here', title: 'button-text' },
    context: { messageId: 'wamid.fx-our-question', from: '15550783881' },
  },
  'interactive list reply': {
    reply: {
      kind: 'list_reply',
      id: 'list_reply_id',
      title: 'list_reply_title',
      description: 'list_reply_description',
    },
  },
  'template quick-reply button': { text: 'No', reply: { kind: 'quick_reply', id: 'No-Button-Payload', title: 'No' } },
  'context reply': { text: 'yes, that one', context: { messageId: 'wamid.fx-our-message', from: '15550783881' } },
  forwarded: { context: { forwarded: true, frequentlyForwarded: true } },
  'product enquiry': {
    context: expect.objectContaining({ referredProduct: { catalogId: '1234567890', productRetailerId: 'sku-42' } }),
  },
  'ad referral': {
    referral: expect.objectContaining({ sourceType: 'ad', sourceId: '6207464011633', headline: 'Our summer sale' }),
  },
  order: {
    text: 'text-message-sent-along-with-the-order',
    order: {
      catalogId: 'the-catalog_id',
      text: 'text-message-sent-along-with-the-order',
      items: [{ productRetailerId: 'the-product-SKU-identifier', quantity: 2, itemPrice: 12.5, currency: 'USD' }],
    },
  },
  unsupported: {
    type: 'unsupported',
    errors: [
      {
        code: 131051,
        title: 'Message type unknown',
        message: 'Message type unknown',
        details: 'Message type is currently not supported.',
      },
    ],
  },
  'system: customer changed number': {
    system: {
      type: 'customer_changed_number',
      body: 'NAME changed from 16315551181 to 16315551182',
      newWaId: '16315551182',
    },
  },
};

describe('WhatsApp payload shapes (documented examples)', () => {
  it('has an expectation for every fixture and a source for each', () => {
    expect(Object.keys(expected).sort()).toEqual(whatsappFixtures.map((f) => f.name).sort());
    for (const f of whatsappFixtures) expect(f.source).toMatch(/^https:\/\/developers\.facebook\.com\//);
  });

  it.each(whatsappFixtures.map((f) => [f.name, f] as const))('%s → one valid message event', (name, f) => {
    const out = normalizeWhatsApp(whatsappFixturePayload(f.value));
    expect(out.parked).toEqual([]);
    expect(out.events).toHaveLength(1);
    const data = WhatsAppMessageReceived.parse(out.events[0]?.event.data);
    expect(data).toMatchObject({ from: '16315551181', profileName: 'Kerry Fisher', ...expected[name] });
    // Nothing Meta sent is lost: the whole message object travels in `raw`.
    expect(data.raw).toEqual((f.value.messages as unknown[])[0]);
  });

  it('a removed reaction carries no emoji and no text', () => {
    const f = whatsappFixtures.find((x) => x.name === 'reaction removed');
    const data = normalizeWhatsApp(whatsappFixturePayload(f?.value ?? {})).events[0]?.event
      .data as WhatsAppMessageReceived;
    expect(data.reaction?.emoji).toBeUndefined();
    expect(data.text).toBeUndefined();
  });

  it.each(Object.values(statusFixtures).map((f) => [f.name, f] as const))(
    'status %s → one valid status event, with what Meta sends beside it',
    (name, f) => {
      expect(f.source).toMatch(/^https:\/\/developers\.facebook\.com\//);
      const out = normalizeWhatsApp(whatsappFixturePayload(f.value('wamid.fx-text')));
      expect(out.parked).toEqual([]);
      expect(out.events.map((e) => e.routingKey)).toEqual(['whatsapp.status.updated']);
      const data = WhatsAppStatusUpdated.parse(out.events[0]?.event.data);
      expect(data).toMatchObject({ status: name, messageId: 'wamid.fx-text', recipientId: '16315551181' });
      const billed = name === 'sent' || name === 'delivered';
      expect(data.conversation).toEqual(
        billed
          ? { id: 'CONVERSATION_ID', expiration_timestamp: '1603172713', origin: { type: 'user_initiated' } }
          : undefined,
      );
      expect(data.pricing).toEqual(billed ? { billable: true, pricing_model: 'CBP', category: 'service' } : undefined);
      expect(data.errors).toEqual(
        name === 'failed'
          ? [
              {
                code: 131026,
                title: 'Message undeliverable',
                message: 'Message undeliverable',
                details: 'Message Undeliverable.',
              },
            ]
          : undefined,
      );
    },
  );

  it('value-level errors are parked with their codes, never dropped', () => {
    const out = normalizeWhatsApp(whatsappFixturePayload(valueErrorsFixture.value));
    expect(out.events).toEqual([]);
    expect(out.parked).toHaveLength(1);
    expect(out.parked[0]?.reason).toContain('130429');
  });

  it('several entries, changes, messages and statuses in one POST each become their own event', () => {
    const body = whatsappFixturePayload({});
    const entry = body.entry[0] as { changes: unknown[] };
    entry.changes = whatsappFixtures.slice(0, 5).map((f) => whatsappFixturePayload(f.value).entry[0]?.changes[0]);
    const two = { ...body, entry: [entry, whatsappFixturePayload(statusFixtures.delivered.value('wamid.x')).entry[0]] };
    const out = normalizeWhatsApp(two);
    expect(out.parked).toEqual([]);
    expect(out.events.map((e) => e.routingKey)).toEqual([
      ...Array(5).fill('whatsapp.message.received'),
      'whatsapp.status.updated',
    ]);
  });

  it('a part with an unexpected shape costs only that typed field, not the message', () => {
    const out = normalizeWhatsApp(
      whatsappFixturePayload({
        messages: [
          { from: '1', id: 'wamid.odd', timestamp: '1', type: 'image', image: { no_id: true }, future_field: 1 },
        ],
      }),
    );
    expect(out.parked).toEqual([]);
    const data = out.events[0]?.event.data as WhatsAppMessageReceived;
    expect(data.media).toBeUndefined();
    expect(data.raw).toMatchObject({ future_field: 1 });
  });
});
