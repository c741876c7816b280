import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  type StatusName,
  signedWhatsApp,
  statusConversation,
  statusErrors,
  statusFixtures,
  statusPricing,
  whatsappFixturePayload,
  whatsappText,
} from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/**
 * Meta's documented status reports (sent, delivered, read, failed), each through the whole path:
 * signed webhook at ingest → broker → sync-worker → Postgres and `message.status.changed`.
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
  for (const id of ['wamid.st-read', 'wamid.st-failed']) {
    const res = await p.post('/webhooks/whatsapp', signedWhatsApp(whatsappText({ from: '16315551181', id, text: id })));
    expect(res.status).toBe(200);
  }
  await vi.waitFor(() => expect(p.events.ofKey('message.received')).toHaveLength(2), { timeout: 10_000, interval: 50 });
});
afterAll(async () => {
  await p.stop();
});

type Changed = {
  providerMessageId: string;
  previousStatus: string | null;
  status: string;
  at: string;
  errors?: unknown;
};
const changes = (wamid: string) =>
  p.events
    .ofKey('message.status.changed')
    .map((r) => r.event.data as Changed)
    .filter((d) => d.providerMessageId === wamid);

/** Posts one documented status for `wamid` and waits until the worker has recorded its report. */
async function report(wamid: string, status: StatusName) {
  const res = await p.post(
    '/webhooks/whatsapp',
    signedWhatsApp(whatsappFixturePayload(statusFixtures[status].value(wamid))),
  );
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'accepted', events: 1, parked: 0 });
  await expect
    .poll(
      async () =>
        (
          await p.pool.query('select 1 from message_status_reports where provider_message_id = $1 and status = $2', [
            wamid,
            status,
          ])
        ).rowCount,
      { timeout: 10_000 },
    )
    .toBe(1);
}

const reports = async (wamid: string) =>
  (
    await p.pool.query(
      `select status, at, conversation, pricing, errors, tenant_id from message_status_reports
        where provider_message_id = $1 order by at`,
      [wamid],
    )
  ).rows;

const at = (unix: string) => new Date(Number(unix) * 1000);

describe('WhatsApp delivery statuses, webhook to rows and events', () => {
  it('sent → delivered → read: each status moves the message forward and keeps conversation and pricing', async () => {
    for (const status of ['sent', 'delivered', 'read'] as const) await report('wamid.st-read', status);
    await expect.poll(() => changes('wamid.st-read').length, { timeout: 10_000 }).toBe(3);

    expect(changes('wamid.st-read').map((c) => [c.previousStatus, c.status, c.at])).toEqual([
      [null, 'sent', at('1603086310').toISOString()],
      ['sent', 'delivered', at('1603086313').toISOString()],
      ['delivered', 'read', at('1603086320').toISOString()],
    ]);
    const { rows } = await p.pool.query(
      'select delivery_status, sent_at, delivered_at, read_at, failed_at from messages where provider_message_id = $1',
      ['wamid.st-read'],
    );
    expect(rows[0]).toEqual({
      delivery_status: 'read',
      sent_at: at('1603086310'),
      delivered_at: at('1603086313'),
      read_at: at('1603086320'),
      failed_at: null,
    });
    const tenant = p.tenant.tenantId;
    expect(await reports('wamid.st-read')).toEqual([
      {
        status: 'sent',
        at: at('1603086310'),
        conversation: statusConversation,
        pricing: statusPricing,
        errors: null,
        tenant_id: tenant,
      },
      {
        status: 'delivered',
        at: at('1603086313'),
        conversation: statusConversation,
        pricing: statusPricing,
        errors: null,
        tenant_id: tenant,
      },
      { status: 'read', at: at('1603086320'), conversation: null, pricing: null, errors: null, tenant_id: tenant },
    ]);
  });

  it('sent → failed: the failure lands with its errors, in the row, the report and the event', async () => {
    await report('wamid.st-failed', 'sent');
    await report('wamid.st-failed', 'failed');
    await expect.poll(() => changes('wamid.st-failed').length, { timeout: 10_000 }).toBe(2);

    const errors = [
      {
        code: 131026,
        title: 'Message undeliverable',
        message: 'Message undeliverable',
        details: 'Message Undeliverable.',
      },
    ];
    const [sent, failed] = changes('wamid.st-failed');
    expect(sent).toMatchObject({ previousStatus: null, status: 'sent' });
    expect(sent?.errors).toBeUndefined();
    expect(failed).toMatchObject({
      previousStatus: 'sent',
      status: 'failed',
      at: at('1603086315').toISOString(),
      errors,
    });

    const { rows } = await p.pool.query(
      'select delivery_status, sent_at, failed_at, errors from messages where provider_message_id = $1',
      ['wamid.st-failed'],
    );
    expect(rows[0]).toEqual({
      delivery_status: 'failed',
      sent_at: at('1603086310'),
      failed_at: at('1603086315'),
      errors,
    });
    expect((await reports('wamid.st-failed')).map((r) => [r.status, r.pricing, r.errors])).toEqual([
      ['sent', statusPricing, null],
      ['failed', null, errors],
    ]);
  });

  it('a status posted again changes nothing and emits nothing', async () => {
    const before = p.events.ofKey('message.status.changed').length;
    const res = await p.post(
      '/webhooks/whatsapp',
      signedWhatsApp(whatsappFixturePayload(statusFixtures.failed.value('wamid.st-failed'))),
    );
    expect(res.status).toBe(200);
    // The redelivery settles as a duplicate: consumed, no new event, the report unchanged.
    await expect
      .poll(async () => (await p.worker?.metrics.consumer.consumed.get())?.values.reduce((s, v) => s + v.value, 0), {
        timeout: 10_000,
      })
      .toBe(2 + 5 + 1);
    expect(p.events.ofKey('message.status.changed')).toHaveLength(before);
    expect(await reports('wamid.st-failed')).toHaveLength(2);
  });

  it('a second failure report with other errors adds them to the message, without a second event', async () => {
    const before = changes('wamid.st-failed').length;
    const rateLimited = { code: 131056, title: 'Pair rate limit hit', message: 'Pair rate limit hit' };
    const value = statusFixtures.failed.value('wamid.st-failed');
    const [status] = (value as { statuses: Array<Record<string, unknown>> }).statuses;
    const again = { statuses: [{ ...status, timestamp: '1603086316', errors: [...statusErrors, rateLimited] }] };
    const res = await p.post('/webhooks/whatsapp', signedWhatsApp(whatsappFixturePayload(again)));
    expect(await res.json()).toEqual({ status: 'accepted', events: 1, parked: 0 });

    // Its event id differs from the first report's (other error codes), so it is applied, not dropped.
    await expect
      .poll(
        async () =>
          (await p.pool.query('select errors from messages where provider_message_id = $1', ['wamid.st-failed']))
            .rows[0]?.errors,
        { timeout: 10_000 },
      )
      .toEqual([expect.objectContaining({ code: 131026 }), rateLimited]);
    expect(changes('wamid.st-failed')).toHaveLength(before);
  });
});
