import { WhatsAppMessageReceived, WhatsAppStatusUpdated } from '@switchboard/contracts';
import { describe, expect, it } from 'vitest';
import { normalizeWhatsApp } from './whatsapp.ts';

// Shapes from Meta's documented payload examples (WhatsApp Cloud API, "Webhooks payload examples").
const value = (v: Record<string, unknown>) => ({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: 'WHATSAPP_BUSINESS_ACCOUNT_ID',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
            ...v,
          },
        },
      ],
    },
  ],
});

const text = value({
  contacts: [{ profile: { name: 'Kerry Fisher' }, wa_id: '16315551181' }],
  messages: [
    {
      from: '16315551181',
      id: 'wamid.ABGGFlA5Fpa',
      timestamp: '1603059201',
      text: { body: 'Hello this is an answer' },
      type: 'text',
    },
  ],
});

describe('normalizeWhatsApp', () => {
  it('turns a text message into one canonical event with a deterministic id', () => {
    const a = normalizeWhatsApp(text);
    const b = normalizeWhatsApp(structuredClone(text));
    expect(a.parked).toEqual([]);
    expect(a.events).toHaveLength(1);
    const [e] = a.events;
    expect(e?.routingKey).toBe('whatsapp.message.received');
    expect(e?.event.id).toBe(b.events[0]?.event.id);
    expect(e?.event.time).toBe('2020-10-18T22:13:21.000Z');
    expect(WhatsAppMessageReceived.parse(e?.event.data)).toMatchObject({
      accountId: '106540352242922',
      from: '16315551181',
      profileName: 'Kerry Fisher',
      messageId: 'wamid.ABGGFlA5Fpa',
      type: 'text',
      text: 'Hello this is an answer',
    });
  });

  it('normalizes every status, keeping failure errors and the raw status', () => {
    const out = normalizeWhatsApp(
      value({
        statuses: [
          {
            id: 'wamid.1',
            status: 'delivered',
            timestamp: '1603086313',
            recipient_id: '16315551181',
            pricing: { billable: true },
          },
          {
            id: 'wamid.1',
            status: 'failed',
            timestamp: '1603086314',
            recipient_id: '16315551181',
            errors: [{ code: 131050, title: 'Unable to deliver', error_data: { details: 'stopped marketing' } }],
          },
        ],
      }),
    );
    expect(out.events.map((e) => e.routingKey)).toEqual(['whatsapp.status.updated', 'whatsapp.status.updated']);
    const failed = WhatsAppStatusUpdated.parse(out.events[1]?.event.data);
    expect(failed).toMatchObject({
      status: 'failed',
      errors: [{ code: 131050, title: 'Unable to deliver', details: 'stopped marketing' }],
    });
    expect(WhatsAppStatusUpdated.parse(out.events[0]?.event.data).raw).toMatchObject({ pricing: { billable: true } });
    expect(out.events[0]?.event.id).not.toBe(out.events[1]?.event.id);
  });

  it('keeps a batch of several messages and statuses, and parks only the item it cannot read', () => {
    const out = normalizeWhatsApp(
      value({
        messages: [
          { from: '16315551181', id: 'wamid.a', timestamp: '1603059201', type: 'text', text: { body: 'a' } },
          { from: '16315551181', timestamp: '1603059202', type: 'text' },
          { from: '16315551181', id: 'wamid.c', timestamp: '1603059203', type: 'sticker', sticker: { id: 'x' } },
        ],
        statuses: [{ id: 'wamid.z', status: 'exploded', timestamp: '1' }],
      }),
    );
    expect(out.events.map((e) => (e.event.data as { messageId: string }).messageId)).toEqual(['wamid.a', 'wamid.c']);
    expect(out.parked.map((p) => p.reason.split(':')[0])).toEqual(['malformed message', 'malformed status']);
  });

  it.each([
    ['another object', { object: 'page', entry: [] }],
    ['no entries', { object: 'whatsapp_business_account', entry: [] }],
    ['not an object', [1, 2, 3]],
  ])('parks %s whole', (_name, payload) => {
    const out = normalizeWhatsApp(payload);
    expect(out.events).toEqual([]);
    expect(out.parked).toHaveLength(1);
  });

  it('parks a change for a field it does not know instead of guessing', () => {
    // account_update and the other account fields are published now (whatsapp-identity.test.ts).
    const payload = value({});
    (payload.entry[0]?.changes[0] as { field: string }).field = 'flows';
    expect(normalizeWhatsApp(payload).parked).toHaveLength(1);
  });
});
