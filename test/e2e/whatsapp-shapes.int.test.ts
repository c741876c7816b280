import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  peekQueue,
  queueDepth,
  signedWhatsApp,
  statusFixtures,
  valueErrorsFixture,
  whatsappFixturePayload,
  whatsappFixtures,
} from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** Every documented WhatsApp payload shape, webhook to rows and events (fixture sources in the fixture file). */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
  // One POST with every fixture as its own change: several changes and messages in one webhook.
  const body = whatsappFixturePayload({});
  (body.entry[0] as { changes: unknown[] }).changes = whatsappFixtures.map(
    (f) => whatsappFixturePayload(f.value).entry[0]?.changes[0],
  );
  const res = await p.post('/webhooks/whatsapp', signedWhatsApp(body));
  expect(res.status).toBe(200);
  await vi.waitFor(() => expect(p.events.ofKey('message.received')).toHaveLength(whatsappFixtures.length), {
    timeout: 20_000,
    interval: 50,
  });
}, 30_000);
afterAll(async () => {
  await p.stop();
});

const messageRow = async (wamid: string) =>
  (
    await p.pool.query<{ id: string; type: string; body: string | null; content: Record<string, unknown> }>(
      'select id, type, body, content from messages where provider_message_id = $1',
      [wamid],
    )
  ).rows[0];
const parkedCount = async () =>
  (await p.ingest.metrics.parked.get()).values.find((v) => v.labels.provider === 'whatsapp')?.value ?? 0;
const wamidOf = (f: (typeof whatsappFixtures)[number]) => (f.value.messages as Array<{ id: string }>)[0]?.id as string;

describe('every WhatsApp payload shape ends in the right rows and events', () => {
  it.each(whatsappFixtures.map((f) => [f.name, f] as const))(
    '%s: one message row keeping the whole object',
    async (_n, f) => {
      const row = await messageRow(wamidOf(f));
      const sent = (f.value.messages as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
      expect(row?.type).toBe(sent.type);
      expect(row?.content).toEqual(sent);
      const event = p.events
        .ofKey('message.received')
        .find((e) => (e.event.data as { providerMessageId: string }).providerMessageId === sent.id);
      expect(event?.event.tenantid).toBe(p.tenant.tenantId);
    },
  );

  it('stores media id, MIME type, sha256, caption and filename, and asks for each download once', async () => {
    const withMedia = whatsappFixtures.filter((f) =>
      ['image', 'audio', 'voice', 'video', 'document', 'sticker'].includes(f.name),
    );
    const media = await p.pool.query<Record<string, string | null>>(
      `select m.provider_message_id, mm.kind, mm.provider_media_id, mm.mime_type, mm.sha256, mm.caption, mm.filename, mm.tenant_id
         from message_media mm join messages m on m.id = mm.message_id`,
    );
    expect(media.rows).toHaveLength(withMedia.length);
    const doc = media.rows.find((r) => r.provider_message_id === 'wamid.fx-document');
    expect(doc).toMatchObject({
      kind: 'document',
      provider_media_id: '1200481327413564',
      mime_type: 'application/pdf',
      caption: 'the invoice',
      filename: 'invoice-2020-10.pdf',
      tenant_id: p.tenant.tenantId,
    });
    expect((await messageRow('wamid.fx-image'))?.body).toBe('This is a caption');
    const requests = p.events.ofKey('media.download.requested');
    expect(requests).toHaveLength(withMedia.length);
    expect(requests.map((r) => (r.event.data as { mediaId: string }).mediaId).sort()).toEqual(
      media.rows.map((r) => r.provider_media_id).sort(),
    );
    expect(requests.find((r) => (r.event.data as { kind: string }).kind === 'image')?.event.data).toMatchObject({
      accountId: '106540352242922',
      mimeType: 'image/jpeg',
      sha256: '81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3',
    });
  });

  it('readable text lands in the body: reactions, replies, locations, orders, system messages', async () => {
    expect((await messageRow('wamid.fx-reaction'))?.body).toBe('\u{1F600}');
    expect((await messageRow('wamid.fx-unreaction'))?.body).toBeNull();
    expect((await messageRow('wamid.fx-button-reply'))?.body).toBe('button-text');
    expect((await messageRow('wamid.fx-quick-reply'))?.body).toBe('No');
    expect((await messageRow('wamid.fx-location'))?.body).toBe('Philz Coffee');
    expect((await messageRow('wamid.fx-order'))?.body).toBe('text-message-sent-along-with-the-order');
    expect((await messageRow('wamid.fx-system'))?.body).toContain('changed from');
  });

  it('a status with conversation and pricing moves the message and keeps them', async () => {
    const res = await p.post(
      '/webhooks/whatsapp',
      signedWhatsApp(whatsappFixturePayload(statusFixtures.delivered.value('wamid.fx-text'))),
    );
    expect(res.status).toBe(200);
    await expect
      .poll(
        async () =>
          (await p.pool.query('select delivery_status from messages where provider_message_id = $1', ['wamid.fx-text']))
            .rows[0]?.delivery_status,
      )
      .toBe('delivered');

    const report = await p.pool.query(
      'select conversation, pricing, tenant_id from message_status_reports where provider_message_id = $1',
      ['wamid.fx-text'],
    );
    expect(report.rows).toEqual([
      {
        conversation: { id: 'CONVERSATION_ID', expiration_timestamp: '1603172713', origin: { type: 'user_initiated' } },
        pricing: { billable: true, pricing_model: 'CBP', category: 'service' },
        tenant_id: p.tenant.tenantId,
      },
    ]);
    // A status for a message we do not hold yet keeps its pricing too.
    await p.post(
      '/webhooks/whatsapp',
      signedWhatsApp(whatsappFixturePayload(statusFixtures.delivered.value('wamid.fx-later'))),
    );
    await expect
      .poll(
        async () =>
          (
            await p.pool.query(
              "select pricing->>'category' as c from message_status_reports where provider_message_id = 'wamid.fx-later'",
            )
          ).rows[0]?.c,
      )
      .toBe('service');
  });

  it('value-level errors are published to parked.whatsapp with their codes, and counted', async () => {
    const parkedBefore = await parkedCount();
    const queuedBefore = await queueDepth(p.names.parked);
    const payload = whatsappFixturePayload(valueErrorsFixture.value);
    const res = await p.post('/webhooks/whatsapp', signedWhatsApp(payload));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ events: 0, parked: 1 });

    await expect.poll(() => queueDepth(p.names.parked), { timeout: 10_000 }).toBe(queuedBefore + 1);
    const parked = (await peekQueue(p.names.parked)).at(-1);
    expect(parked?.routingKey).toBe('parked.whatsapp');
    expect(parked?.event.type).toBe('switchboard.inbound.parked.v1');
    const data = parked?.event.data as { provider: string; reason: string; body: string };
    expect(data.provider).toBe('whatsapp');
    expect(data.reason).toMatch(/^provider_errors: .*130429/);
    // The whole change, errors and all, as Meta sent it.
    expect(JSON.parse(data.body)).toEqual(payload.entry[0]?.changes[0]);
    expect(await parkedCount()).toBe(parkedBefore + 1);
    // Nothing else came of it: no inbound event for the worker.
    expect(await queueDepth(`${p.env.AMQP_NAMESPACE}sync-worker.inbound`)).toBe(0);
  });
});
