import { deliveredEventData, whatsappStatus, whatsappText } from '@switchboard/testing';
import { describe, expect, it } from 'vitest';
import { normalizeMailgunEvent } from './mailgun-event.ts';
import { isoFromUnixSeconds } from './time.ts';
import { normalizeWhatsApp } from './whatsapp.ts';

/** Sender timestamps a Date cannot hold: each part is parked with its reason, never a throw (a 500). */
const OUT_OF_RANGE = ['99999999999999999999', '8640000000001', '1e20'];

describe('sender timestamps out of the Date range', () => {
  it.each(OUT_OF_RANGE)('isoFromUnixSeconds(%s) is no time', (s) => {
    expect(isoFromUnixSeconds(s)).toBeUndefined();
    expect(isoFromUnixSeconds(Number(s))).toBeUndefined();
  });

  it('keeps the edge of the range and refuses what is past it', () => {
    expect(isoFromUnixSeconds(8_640_000_000_000)).toBe('+275760-09-13T00:00:00.000Z');
    expect(isoFromUnixSeconds(-1)).toBeUndefined();
    expect(isoFromUnixSeconds(Number.NaN)).toBeUndefined();
  });

  it.each(['99999999999999999999', '8640000000001'])('a WhatsApp message and status at %s are parked', (ts) => {
    // Built at timestamp 1, then given the sender's out-of-range one.
    const at = (payload: unknown) =>
      JSON.parse(JSON.stringify(payload).replace('"timestamp":"1"', `"timestamp":"${ts}"`));
    const message = at(whatsappText({ from: '16315551181', id: 'wamid.far', text: 'hi', timestamp: 1 }));
    const status = at(whatsappStatus({ id: 'wamid.far', status: 'delivered', timestamp: 1 }));
    for (const payload of [message, status]) {
      const out = normalizeWhatsApp(payload);
      expect(out.events).toEqual([]);
      expect(out.parked).toHaveLength(1);
      expect(out.parked[0]?.reason).toMatch(/out of the representable range/);
    }
  });

  it('a Mailgun event at 1e20 is parked with its reason', () => {
    const out = normalizeMailgunEvent(deliveredEventData({ timestamp: 1e20 }));
    expect(out).toMatchObject({ ok: false, reason: expect.stringMatching(/out of the representable range/) });
  });
});
