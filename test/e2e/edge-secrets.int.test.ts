import { randomUUID } from 'node:crypto';
import { signHmacSha256, signTimestamped } from '@switchboard/platform';
import {
  agentDeskEvent,
  helpdeskEvent,
  type Pipeline,
  signedWhatsApp,
  startPipeline,
  whatsappEnvelope,
  whatsappText,
} from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Unauthenticated requests pick which accounts' secrets the edge looks up (the account comes from
 * the body before anything is verified). What a flood of them costs must stay bounded: lookups
 * at most one per account named (20 per body at most), answers kept in a cache of fixed size.
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ env: { CHANNEL_SECRETS_CACHE_MAX: '50', RATE_LIMIT_PER_CHANNEL: '0' } });
});
afterAll(async () => {
  await p.stop();
});

type Metric = { get(): Promise<{ values: Array<{ labels: Record<string, string | number>; value: number }> }> };
const sum = async (m: Metric, match: Record<string, string> = {}) =>
  (await m.get()).values
    .filter((v) => Object.entries(match).every(([k, want]) => v.labels[k] === want))
    .reduce((s, v) => s + v.value, 0);
/** What the edge asked the registry, counted on both sides: the edge's lookups and the worker's requests. */
const lookups = async () => ({
  edge: await sum(p.ingest.metrics.channelSecrets.lookups),
  worker: await sum(p.worker?.metrics.http.requests as Metric, {
    route: '/internal/channels/:provider/:accountId/secrets',
  }),
});
const cached = (kind: string) => sum(p.ingest.metrics.channelSecrets.cached, { kind });

/** A body naming these made-up business numbers, with a signature of the right shape that nobody made. */
function forged(accounts: string[], signature: string | null = `sha256=${'ab'.repeat(32)}`) {
  const body = whatsappEnvelope({});
  (body.entry[0] as { changes: unknown[] }).changes = accounts.map((a) => ({
    field: 'messages',
    value: { metadata: { phone_number_id: a }, statuses: [] },
  }));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  return { body: JSON.stringify(body), headers };
}
const madeUp = (n: number) => Array.from({ length: n }, () => `9${randomUUID().replaceAll('-', '').slice(0, 14)}`);
const statuses = async (reqs: Array<ReturnType<typeof forged>>) =>
  new Set((await Promise.all(reqs.map((r) => p.post('/webhooks/whatsapp', r)))).map((r) => r.status));

describe('a flood of made-up business numbers', () => {
  it('costs one lookup per account, and the cache of unknown accounts stays at its size', async () => {
    // A real message first: the dev channel's answer is cached among the known accounts.
    const real = signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.flood-1', text: 'hi' }));
    expect((await p.post('/webhooks/whatsapp', real)).status).toBe(200);
    const start = await lookups();
    expect(start).toEqual({ edge: 1, worker: 1 });

    // 30 requests, each naming 20 accounts nobody registered: 600 lookups, 50 answers kept.
    const flood = Array.from({ length: 30 }, () => forged(madeUp(20)));
    expect(await statuses(flood)).toEqual(new Set([401]));
    expect(await lookups()).toEqual({ edge: 601, worker: 601 });
    expect(await cached('unknown')).toBe(50);
    expect(await cached('known')).toBe(1);

    // 30 requests at once naming the same 20 new accounts: one lookup each, shared.
    const same = madeUp(20);
    expect(await statuses(Array.from({ length: 30 }, () => forged(same)))).toEqual(new Set([401]));
    expect(await lookups()).toEqual({ edge: 621, worker: 621 });

    // More than 20 accounts in a body, or a malformed signature: no lookup at all.
    expect(await statuses(Array.from({ length: 10 }, () => forged(madeUp(21))))).toEqual(new Set([401]));
    const malformed = [null, 'sha256=zz', `sha256=${'ab'.repeat(32)}, sha256=${'cd'.repeat(32)}`];
    expect(await statuses(malformed.map((s) => forged(madeUp(20), s)))).toEqual(new Set([401]));
    expect(await lookups()).toEqual({ edge: 621, worker: 621 });

    // The real channel was not pushed out: its next message needs no lookup.
    const again = signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.flood-2', text: 'hi' }));
    expect((await p.post('/webhooks/whatsapp', again)).status).toBe(200);
    expect(await lookups()).toEqual({ edge: 621, worker: 621 });
    expect(await cached('unknown')).toBe(50);
  });

  it('a body naming more than 20 numbers, signed with the app secret, is parked, not looked up', async () => {
    const before = await lookups();
    const req = forged(madeUp(21));
    const res = await p.post('/webhooks/whatsapp', {
      ...req,
      headers: { ...req.headers, 'x-hub-signature-256': signHmacSha256(req.body, 'dev-whatsapp-app-secret', 'hex') },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'accepted', events: 0, parked: 1 });
    expect(await lookups()).toEqual(before);
  });
});

describe('the helpdesk and agent-desk routes (timestamped signatures)', () => {
  const webhooksLookups = () => sum(p.webhooks.metrics.channelSecrets.lookups);
  const failures = (provider: string, reason: string) =>
    sum(p.webhooks.metrics.signatureFailures, { provider, reason });
  /** A body naming an account nobody registered, with the headers given (a fresh timestamp, a forged MAC by default). */
  function request(path: string, over: { signature?: string | null; timestamp?: string }) {
    const account = madeUp(1)[0] as string;
    const webhook =
      path === '/webhooks/helpdesk'
        ? { ...helpdeskEvent('ticket.created', { ticketId: 't-1', conversationId: randomUUID() }), accountId: account }
        : {
            ...agentDeskEvent('operator.status_changed', { operatorId: 'op-1', status: 'online' }),
            accountId: account,
          };
    const body = JSON.stringify(webhook);
    const timestamp = over.timestamp ?? String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-timestamp': timestamp };
    const signature =
      over.signature === undefined ? signTimestamped(body, 'nobody-knows-this', timestamp) : over.signature;
    if (signature !== null) headers['x-signature-256'] = signature;
    return p.postWebhooks(path, { body, headers });
  }

  it.each(['/webhooks/helpdesk', '/webhooks/agent-desk'])(
    '%s: a malformed signature header or a stale timestamp is refused before any registry lookup',
    async (path) => {
      const provider = path === '/webhooks/helpdesk' ? 'helpdesk' : 'agent_desk';
      const before = await webhooksLookups();
      const stale = String(Math.floor(Date.now() / 1000) - 3600);
      const refused = [
        { over: { signature: null }, reason: 'missing_signature' },
        { over: { signature: 'sha256=zz' }, reason: 'bad_signature' },
        { over: { signature: `sha256=${'ab'.repeat(32)}, sha256=${'cd'.repeat(32)}` }, reason: 'bad_signature' },
        { over: { timestamp: stale }, reason: 'stale_timestamp' },
        { over: { timestamp: 'yesterday' }, reason: 'bad_timestamp' },
      ];
      for (const { over, reason } of refused) {
        const failed = await failures(provider, reason);
        const res = await request(path, over);
        expect(res.status, reason).toBe(401);
        expect(await failures(provider, reason), reason).toBe(failed + 1);
      }
      expect(await webhooksLookups()).toBe(before);

      // A well-formed, fresh request signed by nobody: its account is looked up, then refused.
      expect((await request(path, {})).status).toBe(401);
      expect(await webhooksLookups()).toBe(before + 1);
    },
  );
});
