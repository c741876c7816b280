import { issueApiToken, seedTenant } from '@switchboard/db';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { signedWhatsApp, whatsappStatus, whatsappText } from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { genesysAgentText, signedGenesys } from '../fixtures/genesys.ts';

/**
 * The downstream sender's dispatch report (`POST /messages/:id/dispatched`): a Genesys agent's
 * reply is stored under Genesys' id; the WhatsApp statuses for the wamid Meta gave the sender
 * reach it once the sender reports that wamid, including the ones that arrived before the report.
 */
let p: Pipeline;
beforeEach(async () => {
  p = await startPipeline();
});
afterEach(async () => {
  await p.stop();
});

const CUSTOMER = '16315551181';
type Data = Record<string, unknown>;
const dataOf = (key: string) => p.events.ofKey(key).map((r) => r.event.data as Data);
const T0 = 1_700_000_000;

/** A customer writes, a Genesys agent answers: the id of the outbound message the sender is asked to deliver. */
async function agentReply(genesysId: string, count = 1): Promise<string> {
  if (count === 1) {
    const hello = whatsappText({ from: CUSTOMER, id: 'wamid.customer-1', text: 'help' });
    expect((await p.post('/webhooks/whatsapp', signedWhatsApp(hello))).status).toBe(200);
    await expect.poll(() => dataOf('message.received').length, { timeout: 10_000 }).toBe(1);
  }
  const reply = genesysAgentText({ id: genesysId, to: CUSTOMER, text: 'on it', conversationId: 'gc-d' });
  expect((await p.postWebhooks('/webhooks/genesys', signedGenesys(reply))).status).toBe(200);
  await expect.poll(() => dataOf('message.outbound.requested').length, { timeout: 10_000 }).toBe(count);
  return dataOf('message.outbound.requested')[count - 1]?.messageId as string;
}

const status = (id: string, s: 'sent' | 'delivered' | 'read' | 'failed', at: number) =>
  p.post('/webhooks/whatsapp', signedWhatsApp(whatsappStatus({ id, status: s, timestamp: at })));

const dispatched = (messageId: string, body: unknown, token?: string) =>
  p.api(`/messages/${messageId}/dispatched`, { method: 'POST', body, ...(token ? { token } : {}) });

const message = async (id: string) =>
  (await p.pool.query('select delivery_status, sent_at, delivered_at, read_at from messages where id = $1', [id]))
    .rows[0];
const count = async (q: string, params: unknown[] = []) => Number((await p.pool.query(q, params)).rows[0].n);
const staleStatuses = async () =>
  (await p.worker?.metrics.statuses.get())?.values.find((v) => v.labels.result === 'stale')?.value ?? 0;

describe('POST /messages/:id/dispatched', () => {
  it('applies the WhatsApp statuses held for the wamid, and later ones directly', async () => {
    const id = await agentReply('gm-d1');
    const wamid = 'wamid.HBgLMTYzMTU1NTExODEVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA';

    // Meta's 'delivered' overtakes the sender's report: nothing names the wamid yet, so it is held.
    expect((await status(wamid, 'delivered', T0 + 20)).status).toBe(200);
    await expect
      .poll(() => count('select count(*) as n from pending_statuses where provider_message_id = $1', [wamid]), {
        timeout: 10_000,
      })
      .toBe(1);
    expect((await message(id))?.delivery_status).toBeNull();
    // The history is read (and cached) before the report, to see the report invalidate it.
    const conversationId = dataOf('message.outbound.requested')[0]?.conversationId as string;
    const history = async () =>
      ((await (await p.api(`/conversations/${conversationId}/messages`)).json()) as { messages: Data[] }).messages;
    expect((await history()).find((m) => m.id === id)).toMatchObject({ deliveryStatus: null });

    const res = await dispatched(id, { providerMessageId: wamid, sentAt: new Date((T0 + 10) * 1000).toISOString() });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      messageId: id,
      provider: 'whatsapp',
      providerMessageId: wamid,
      recorded: true,
      deliveryStatus: 'delivered',
      statusEvents: 2,
    });
    expect(await message(id)).toEqual({
      delivery_status: 'delivered',
      sent_at: new Date((T0 + 10) * 1000),
      delivered_at: new Date((T0 + 20) * 1000),
      read_at: null,
    });
    expect(await count('select count(*) as n from pending_statuses')).toBe(0);
    await expect
      .poll(() => dataOf('message.status.changed'), { timeout: 10_000 })
      .toEqual([
        expect.objectContaining({
          messageId: id,
          provider: 'whatsapp',
          providerMessageId: wamid,
          previousStatus: null,
          status: 'sent',
        }),
        expect.objectContaining({ messageId: id, previousStatus: 'sent', status: 'delivered' }),
      ]);
    expect((await history()).find((m) => m.id === id)).toMatchObject({ deliveryStatus: 'delivered' });

    // 'read' after the report finds the message through the wamid at once.
    expect((await status(wamid, 'read', T0 + 30)).status).toBe(200);
    await expect.poll(async () => (await message(id))?.delivery_status, { timeout: 10_000 }).toBe('read');
    await expect
      .poll(() => dataOf('message.status.changed').map((d) => d.status), { timeout: 10_000 })
      .toEqual(['sent', 'delivered', 'read']);

    // An older status, and the same 'read' again, change nothing.
    const stale = await staleStatuses();
    expect((await status(wamid, 'sent', T0 + 5)).status).toBe(200);
    await expect.poll(staleStatuses, { timeout: 10_000 }).toBe(stale + 1);
    expect((await status(wamid, 'read', T0 + 30)).status).toBe(200);
    expect(await message(id)).toMatchObject({ delivery_status: 'read', sent_at: new Date((T0 + 10) * 1000) });

    // The same report again is a no-op; another wamid for the message is a conflict.
    const again = await dispatched(id, { providerMessageId: wamid });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ recorded: false, deliveryStatus: 'read', statusEvents: 0 });
    const other = await dispatched(id, { providerMessageId: 'wamid.another' });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ error: 'conflict' });
    expect(await count('select count(*) as n from message_aliases')).toBe(1);
    expect(dataOf('message.status.changed')).toHaveLength(3);
  });

  it("answers 404 for another tenant's token, an inbound message or none; 400 for a bad body; 409 for a taken wamid", async () => {
    const id = await agentReply('gm-d2');
    const acme = await seedTenant(p.db, {
      slug: 'acme',
      name: 'Acme',
      channels: [{ provider: 'whatsapp', accountId: '200000000000001' }],
    });
    const acmeToken = (await issueApiToken(p.db, acme.tenantId, 'acme sender', { scopes: ['operate'] })).token;
    expect((await dispatched(id, { providerMessageId: 'wamid.x' }, acmeToken)).status).toBe(404);

    const inbound = dataOf('message.received')[0]?.messageId as string;
    expect((await dispatched(inbound, { providerMessageId: 'wamid.x' })).status).toBe(404);
    expect((await dispatched('6f1c8a5e-0000-4000-8000-000000000000', { providerMessageId: 'wamid.x' })).status).toBe(
      404,
    );

    for (const body of [
      {},
      { providerMessageId: '' },
      { providerMessageId: 'has space' },
      { providerMessageId: 'w', sentAt: 'yesterday' },
    ]) {
      const res = await dispatched(id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await dispatched('not-a-uuid', { providerMessageId: 'wamid.x' })).status).toBe(400);
    // The customer's own message's wamid, or a wamid another reply was dispatched as, is taken.
    expect((await dispatched(id, { providerMessageId: 'wamid.customer-1' })).status).toBe(409);
    const second = await agentReply('gm-d3', 2);
    expect((await dispatched(second, { providerMessageId: 'wamid.first' })).status).toBe(200);
    expect((await dispatched(id, { providerMessageId: 'wamid.first' })).status).toBe(409);
    expect(await count('select count(*) as n from message_aliases')).toBe(1);
    expect((await message(id))?.delivery_status).toBeNull();
  });

  it('a status racing the report is applied exactly once, whichever commits first', async () => {
    const ids: string[] = [];
    for (let i = 1; i <= 8; i++) ids.push(await agentReply(`gm-race-${i}`, i));
    await Promise.all(
      ids.map(async (id, i) => {
        const wamid = `wamid.race-${i}`;
        const [s, d] = await Promise.all([
          status(wamid, 'delivered', T0 + 20),
          dispatched(id, { providerMessageId: wamid, sentAt: new Date((T0 + 10) * 1000).toISOString() }),
        ]);
        expect([s.status, d.status]).toEqual([200, 200]);
      }),
    );
    for (const id of ids) {
      await expect.poll(async () => (await message(id))?.delivery_status, { timeout: 10_000 }).toBe('delivered');
    }
    expect(await count('select count(*) as n from pending_statuses')).toBe(0);
    await expect
      .poll(() => dataOf('message.status.changed').filter((d) => d.status === 'delivered').length, { timeout: 10_000 })
      .toBe(ids.length);
  });
});
