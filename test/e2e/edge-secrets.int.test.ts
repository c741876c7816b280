import { randomUUID } from 'node:crypto';
import { signHmacSha256, signTimestamped } from '@switchboard/platform';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { agentDeskEvent, helpdeskEvent, signedWhatsApp, whatsappEnvelope, whatsappText } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Unauthenticated requests pick which accounts' secrets the edge uses (the account comes from the
 * body before anything is verified). The edge holds the whole registry in memory (fed from Redis
 * by the sync-worker), so a flood of made-up accounts costs a map lookup each: no read of Redis,
 * no call into the worker, nothing remembered.
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ env: { RATE_LIMIT_PER_CHANNEL: '0', CHANNEL_SECRETS_RESYNC_MS: '600000' } });
});
afterAll(async () => {
  await p.stop();
});

type Metric = { get(): Promise<{ values: Array<{ labels: Record<string, string | number>; value: number }> }> };
const sum = async (m: Metric, match: Record<string, string> = {}) =>
  (await m.get()).values
    .filter((v) => Object.entries(match).every(([k, want]) => v.labels[k] === want))
    .reduce((s, v) => s + v.value, 0);
/** What the edges read of the registry (snapshot loads from Redis) and what the worker was asked. */
const reads = async () => ({
  ingest: await sum(p.ingest.metrics.channelSecrets.loads),
  webhooks: await sum(p.webhooks.metrics.channelSecrets.loads),
  worker: await sum(p.worker?.metrics.http.requests as Metric),
});
const held = async () => (await p.ingest.metrics.channelSecrets.accounts.get()).values[0]?.value ?? 0;

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
  it('reads nothing from the registry and remembers nothing', async () => {
    const real = signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.flood-1', text: 'hi' }));
    expect((await p.post('/webhooks/whatsapp', real)).status).toBe(200);
    const start = await reads();
    const accounts = await held();
    expect(accounts).toBeGreaterThan(0);
    const deprecated = p.ingest.metrics.channelSecrets;
    const unknownBefore = await sum(deprecated.lookups, { result: 'unknown' });

    // 30 requests, each naming 20 accounts nobody registered; then 30 naming the same 20.
    const flood = Array.from({ length: 30 }, () => forged(madeUp(20)));
    expect(await statuses(flood)).toEqual(new Set([401]));
    const same = madeUp(20);
    expect(await statuses(Array.from({ length: 30 }, () => forged(same)))).toEqual(new Set([401]));
    // More than 20 accounts in a body, or a malformed signature.
    expect(await statuses(Array.from({ length: 10 }, () => forged(madeUp(21))))).toEqual(new Set([401]));
    const malformed = [null, 'sha256=zz', `sha256=${'ab'.repeat(32)}, sha256=${'cd'.repeat(32)}`];
    expect(await statuses(malformed.map((s) => forged(madeUp(20), s)))).toEqual(new Set([401]));

    expect(await reads()).toEqual(start);
    expect(await held()).toBe(accounts);
    // The deprecated names still tell the same story: each made-up account of the 60 well-formed
    // bodies is a lookup that found nothing, and nothing of them is kept.
    expect((await sum(deprecated.lookups, { result: 'unknown' })) - unknownBefore).toBeGreaterThanOrEqual(1200);
    expect(await sum(deprecated.cached, { kind: 'known' })).toBe(accounts);
    expect(await sum(deprecated.cached, { kind: 'unknown' })).toBe(0);
    const again = signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.flood-2', text: 'hi' }));
    expect((await p.post('/webhooks/whatsapp', again)).status).toBe(200);
  });

  it('a body naming more than 20 numbers, signed with the app secret, is parked, not looked up', async () => {
    const before = await reads();
    const req = forged(madeUp(21));
    const res = await p.post('/webhooks/whatsapp', {
      ...req,
      headers: { ...req.headers, 'x-hub-signature-256': signHmacSha256(req.body, 'dev-whatsapp-app-secret', 'hex') },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'accepted', events: 0, parked: 1 });
    expect(await reads()).toEqual(before);
  });
});

describe('the helpdesk and agent-desk routes (timestamped signatures)', () => {
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
    '%s: a malformed signature header or a stale timestamp is refused, each with its reason',
    async (path) => {
      const provider = path === '/webhooks/helpdesk' ? 'helpdesk' : 'agent_desk';
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

      // A well-formed, fresh request signed by nobody: refused, and nothing was read to refuse it.
      const before = await reads();
      expect((await request(path, {})).status).toBe(401);
      expect(await reads()).toEqual(before);
    },
  );
});
