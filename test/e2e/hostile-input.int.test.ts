import { signHmacSha256 } from '@switchboard/platform';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  collectEvents,
  DEV_WHATSAPP_SECRET,
  deliveredEventData,
  mailgunEventBody,
  queueDepth,
  signedWhatsApp,
  whatsappStatus,
  whatsappText,
} from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What a hostile sender found (issue 13, items 1-4), through the whole pipeline: a correctly
 * signed body is either accepted and stored, or parked whole with its reason; never a 500, never
 * an accepted message left to die in the retry ladder.
 */
let p: Pipeline;
let parked: Awaited<ReturnType<typeof collectEvents>>;
beforeAll(async () => {
  p = await startPipeline();
  parked = await collectEvents(p.names.inbound, 'parked.#');
});
afterAll(async () => {
  await parked.close();
  await p.stop();
});

const signed = (body: string) => ({
  body,
  headers: {
    'content-type': 'application/json',
    'x-hub-signature-256': signHmacSha256(body, DEV_WHATSAPP_SECRET, 'hex'),
  },
});
/** A payload's JSON with its `"timestamp":"1"` replaced by `value` as written (digits or a number). */
const withTimestamp = (payload: unknown, value: string) =>
  JSON.stringify(payload).replace('"timestamp":"1"', `"timestamp":${value}`);
const parkedWith = (reason: RegExp) =>
  parked.received.filter((r) => reason.test((r.event.data as { reason: string }).reason)).length;
let n = 0;
const wamid = () => `wamid.hostile-${process.pid}-${++n}`;

describe('hostile input through the pipeline', () => {
  it.each(['"99999999999999999999"', '"8640000000001"'])(
    'a WhatsApp message and status at %s: 200, parked',
    async (ts) => {
      const before = parkedWith(/out of the representable range/);
      const message = whatsappText({ from: '16315551181', id: wamid(), text: 'hi', timestamp: 1 });
      const status = whatsappStatus({ id: wamid(), status: 'delivered', timestamp: 1 });
      for (const payload of [message, status]) {
        expect((await p.post('/webhooks/whatsapp', signed(withTimestamp(payload, ts)))).status).toBe(200);
      }
      await expect.poll(() => parkedWith(/out of the representable range/), { timeout: 10_000 }).toBe(before + 2);
    },
  );

  it('a Mailgun event at 1e20: 200, parked', async () => {
    const before = parkedWith(/out of the representable range/);
    const req = mailgunEventBody(deliveredEventData({ timestamp: 1e20 }));
    expect((await p.post('/webhooks/mailgun/events', req)).status).toBe(200);
    await expect.poll(() => parkedWith(/out of the representable range/), { timeout: 10_000 }).toBe(before + 1);
  });

  it('a signed body of 100,000 nested arrays, and a message with a 5,000-deep field: 200, parked whole', async () => {
    const before = parkedWith(/too_deep/);
    const deepBody = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect((await p.post('/webhooks/whatsapp', signed(deepBody))).status).toBe(200);
    const id = wamid();
    const message = JSON.stringify(whatsappText({ from: '16315551181', id, text: 'hi' })).replace(
      '"type":"text"',
      `"type":"text","extra":${'['.repeat(5_000)}1${']'.repeat(5_000)}`,
    );
    expect((await p.post('/webhooks/whatsapp', signed(message))).status).toBe(200);
    await expect.poll(() => parkedWith(/too_deep/), { timeout: 10_000 }).toBe(before + 2);
    const kept = parked.received.filter((r) => (r.event.data as { body: string }).body.includes(id));
    expect(kept).toHaveLength(1);
  });

  it('a lone surrogate in a message text: stored with U+FFFD, nothing dead-lettered', async () => {
    const id = wamid();
    const res = await p.post(
      '/webhooks/whatsapp',
      signedWhatsApp(whatsappText({ from: '16315551182', id, text: 'half \ud83d' })),
    );
    expect(res.status).toBe(200);
    await expect
      .poll(
        async () =>
          (await p.pool.query('select body from messages where provider_message_id = $1', [id])).rows[0]?.body,
        { timeout: 10_000 },
      )
      .toBe('half \uFFFD');
    expect(await queueDepth(p.worker?.topology.consumers.syncInbound.deadQueue as string)).toBe(0);
  });

  it.each([
    ['a 10-digit timestamp', '1700000000'],
    ['month 13', '2026-13-01 00:00:00+00'],
  ])('a read-API cursor with %s: 400', async (_what, at) => {
    const cursor = Buffer.from(`${at}|0b6f7c52-3a53-4f5e-9a39-6f2f0a6b7d10`).toString('base64url');
    const res = await p.api(`/conversations/0b6f7c52-3a53-4f5e-9a39-6f2f0a6b7d10/messages?cursor=${cursor}`);
    expect(res.status).toBe(400);
  });
});
