import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { helpdeskEvent, signedHelpdesk, signedWhatsApp, whatsappText } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from './config.ts';
import { type Realtime, startRealtime } from './service.ts';
import { type Client, connectClient, urlOf } from './test-kit.ts';

/**
 * The gateway behind the real pipeline: signed webhooks into the edges, the sync-worker's
 * transactions and outbox relay, `switchboard.events`, and real WebSocket clients. Tokens are the
 * tenant's real read-API token, checked by the sync-worker's `GET /tenant`.
 */
let p: Pipeline;
let rt: Realtime;
const clients: Client[] = [];
beforeAll(async () => {
  p = await startPipeline();
  rt = await startRealtime(
    loadConfig({ ...p.env, REALTIME_PORT: '0', REALTIME_HOST: '127.0.0.1', REALTIME_READ_API_URL: p.workerUrl }),
  );
  await rt.broker.ready();
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await rt.lifecycle.stop();
  await p.stop();
});

async function browserClient(): Promise<Client> {
  const res = await fetch(`${urlOf(rt)}/auth/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.apiToken}` },
  });
  expect(res.status).toBe(200);
  const { token } = (await res.json()) as { token: string };
  const c = await connectClient(urlOf(rt), token);
  clients.push(c);
  return c;
}

async function whatsapp(from: string, wamid: string, text: string) {
  const res = await p.post('/webhooks/whatsapp', signedWhatsApp(whatsappText({ from, id: wamid, text })));
  expect(res.status).toBe(200);
}

async function conversationOf(wamid: string): Promise<string> {
  let id = '';
  await vi.waitFor(
    async () => {
      const r = await p.pool.query<{ conversation_id: string }>(
        'select conversation_id from messages where provider_message_id = $1',
        [wamid],
      );
      id = r.rows[0]?.conversation_id ?? '';
      expect(id).not.toBe('');
    },
    { timeout: 10_000 },
  );
  return id;
}

describe('realtime behind the pipeline', () => {
  it('refuses a browser-token request without a valid read-API token', async () => {
    const res = await fetch(`${urlOf(rt)}/auth/token`, { method: 'POST', headers: { authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
  });

  it('pushes a WhatsApp message to the subscribers of its conversation', async () => {
    await whatsapp('16315552001', 'wamid.rt-1', 'first');
    const conv = await conversationOf('wamid.rt-1');
    const c = await browserClient();
    await c.subscribe([`conversation:${conv}`]);
    await whatsapp('16315552001', 'wamid.rt-2', 'where is my order?');
    await expect
      .poll(() => c.events().find((e) => e.data?.text === 'where is my order?'), { timeout: 15_000 })
      .toMatchObject({
        event: 'message_thread_updated',
        cloudEventType: 'switchboard.message.received.v1',
        data: { conversationId: conv, provider: 'whatsapp', providerMessageId: 'wamid.rt-2' },
      });
  });

  it('pushes a helpdesk ticket change to conversation_states with previousStatus and syncedFrom', async () => {
    await whatsapp('16315552002', 'wamid.rt-3', 'hello');
    const conv = await conversationOf('wamid.rt-3');
    const c = await browserClient();
    await c.subscribe(['conversation_states']);
    const hook = helpdeskEvent('ticket.created', { ticketId: 'RT-1', conversationId: conv, status: 'in_progress' });
    const res = await p.postWebhooks('/webhooks/helpdesk', signedHelpdesk(hook));
    expect(res.status).toBe(200);
    const synced = () =>
      c.events().find((e) => e.event === 'conversation_state_changed' && e.data?.conversationId === conv);
    await expect.poll(synced, { timeout: 15_000 }).toMatchObject({
      data: { previousStatus: 'open', status: 'active', syncedFrom: 'ticket' },
    });
    expect(synced()?.version).toEqual(expect.any(Number));
    expect(c.events().find((e) => e.event === 'ticket_status_changed')).toMatchObject({
      data: { conversationId: conv, previousStatus: null, status: 'in_progress', syncedFrom: null },
    });
  });
});
