import { randomUUID } from 'node:crypto';
import { METHODS } from 'node:http';
import { signHmacSha256, signTimestamped } from '@switchboard/platform';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  agentDeskEvent,
  DEV_AGENT_DESK_SECRET,
  DEV_HELPDESK_SECRET,
  DEV_WHATSAPP_SECRET,
  deliveredEventData,
  failedPermanentEventData,
  helpdeskEvent,
  mailgunSignature,
  statusFixtures,
  whatsappFixturePayload,
  whatsappFixtures,
} from '@switchboard/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_GENESYS_SECRET, genesysAgentAttachment, genesysAgentText, genesysReceipt } from '../fixtures/genesys.ts';
import {
  type BodyRecipe,
  bodyRecipe,
  type FuzzRoute,
  type HeaderRecipe,
  headerRecipe,
  render,
} from './edge-fuzz-recipes.ts';

/**
 * Each edge route fuzzed from its own valid, correctly signed payloads, with the broker up:
 * mutated bodies (spliced bytes, replaced fields, random JSON and bytes, and what a hostile sender
 * found: out-of-range times, lone surrogates, NUL, 5,000-deep fields and 100,000-deep bodies) and headers (signatures
 * duplicated, joined, garbled or of another scheme; content types and charsets; Content-Length
 * lies; missing, stale and odd timestamps). Invariants: never a 5xx, nothing published for a
 * request not answered 200, only a correctly signed request answered 200, and an unmutated seed
 * accepted and published exactly once.
 */
let p: Pipeline;
beforeAll(async () => {
  // No worker: the edges alone (their queues still exist and take the events). No rate limit.
  p = await startPipeline({ worker: false, env: { RATE_LIMIT_PER_CHANNEL: '0' } });
});
afterAll(async () => {
  await p.stop();
});

type Edge = Pipeline['ingest'] | Pipeline['webhooks'];
const published = async (edge: Edge) =>
  (await edge.metrics.publisher.published.get()).values.reduce((s, v) => s + v.value, 0);

interface Route extends FuzzRoute {
  url: string;
  edge: () => Edge;
}

const to = '16315551181';
const routes: Record<string, Route> = {
  whatsapp: {
    url: '/webhooks/whatsapp',
    edge: () => p.ingest,
    seeds: [
      ...whatsappFixtures.map((f) => () => whatsappFixturePayload(f.value)),
      ...Object.values(statusFixtures).map((f) => () => whatsappFixturePayload(f.value(`wamid.fz-${randomUUID()}`))),
    ],
    header: 'x-hub-signature-256',
    encoding: 'hex',
    sign: (b) => signHmacSha256(b, DEV_WHATSAPP_SECRET, 'hex'),
    timestamped: false,
  },
  genesys: {
    url: '/webhooks/genesys',
    edge: () => p.webhooks,
    seeds: [
      () => genesysAgentText({ id: randomUUID(), to, text: 'Hi, how can I help?', conversationId: randomUUID() }),
      () => genesysAgentAttachment({ id: randomUUID(), to }),
      () => genesysReceipt({ id: randomUUID(), to, status: 'Delivered' }),
      () => genesysReceipt({ id: randomUUID(), to, status: 'Failed', reasons: [{ code: 'x', message: 'y' }] }),
    ],
    header: 'x-hub-signature-256',
    encoding: 'base64',
    sign: (b) => signHmacSha256(b, DEV_GENESYS_SECRET, 'base64'),
    timestamped: false,
  },
  helpdesk: {
    url: '/webhooks/helpdesk',
    edge: () => p.webhooks,
    seeds: [
      () =>
        helpdeskEvent('ticket.created', { ticketId: randomUUID(), conversationId: randomUUID(), subject: 'Refund' }),
      () =>
        helpdeskEvent('ticket.status_changed', {
          ticketId: randomUUID(),
          conversationId: randomUUID(),
          status: 'open',
        }),
      () => helpdeskEvent('ticket.assigned', { ticketId: randomUUID(), conversationId: randomUUID(), assignee: 'ana' }),
    ],
    header: 'x-signature-256',
    encoding: 'hex',
    sign: (b, ts) => signTimestamped(b, DEV_HELPDESK_SECRET, ts),
    timestamped: true,
  },
  mailgunEvents: {
    url: '/webhooks/mailgun/events',
    edge: () => p.ingest,
    // Each seed signs a fresh token (a re-used one is a replay: 406).
    seeds: [
      () => ({ signature: mailgunSignature(), 'event-data': deliveredEventData({ timestamp: Date.now() / 1000 }) }),
      () => ({
        signature: mailgunSignature(),
        'event-data': failedPermanentEventData({ timestamp: Date.now() / 1000 }),
      }),
    ],
    header: 'x-unused-signature',
    encoding: 'hex',
    sign: () => 'sha256=00',
    timestamped: false,
    bodySigned: true,
  },
  agentDesk: {
    url: '/webhooks/agent-desk',
    edge: () => p.webhooks,
    seeds: [
      () => agentDeskEvent('operator.status_changed', { operatorId: 'op-ana', status: 'online', capacity: 3 }),
      () => agentDeskEvent('conversation.assign_requested', { conversationId: randomUUID(), operatorId: 'op-ana' }),
      () =>
        agentDeskEvent('operator.replied', {
          conversationId: randomUUID(),
          operatorId: 'op-ana',
          messageId: randomUUID(),
          text: 'on my way',
        }),
    ],
    header: 'x-signature-256',
    encoding: 'hex',
    sign: (b, ts) => signTimestamped(b, DEV_AGENT_DESK_SECRET, ts),
    timestamped: true,
  },
};

async function fuzz(route: Route, runs: number) {
  const seen = new Map<number, number>();
  let pristine = 0;
  await fc.assert(
    fc.asyncProperty(bodyRecipe(route.seeds.length), headerRecipe, async (b: BodyRecipe, h: HeaderRecipe) => {
      const req = render(route, b, h);
      const before = await published(route.edge());
      const res = await route
        .edge()
        .app.inject({ method: 'POST', url: route.url, headers: req.headers, payload: req.body });
      const after = await published(route.edge());
      seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
      expect(res.statusCode, res.body).toBeLessThan(500);
      if (res.statusCode !== 200) expect(after, res.body).toBe(before);
      // Only a correctly signed request is accepted: the signature as made, or its hex in upper case.
      else if (!route.bodySigned)
        expect(route.encoding === 'hex' ? ['right', 'recased'] : ['right']).toContain(h.signature);
      if (req.pristine) {
        pristine++;
        expect([res.statusCode, after - before], res.body).toEqual([200, 1]);
      }
    }),
    { numRuns: runs },
  );
  expect(pristine, 'the run sent unmutated seeds').toBeGreaterThan(0);
  expect((await fetch(`${route.edge() === p.ingest ? p.ingestUrl : p.webhooksUrl}/readyz`)).status).toBe(200);
  return [...seen.keys()].sort();
}

describe('fuzz: every edge route from its own signed payloads', () => {
  it('ingest: 1,200 requests to POST /webhooks/whatsapp', async () => {
    expect(await fuzz(routes.whatsapp as Route, 1200)).toEqual(expect.arrayContaining([200, 400, 401, 415]));
  }, 240_000);

  it('webhooks: 800 requests to POST /webhooks/genesys', async () => {
    expect(await fuzz(routes.genesys as Route, 800)).toEqual(expect.arrayContaining([200, 400, 401, 415]));
  }, 240_000);

  it('webhooks: 600 requests to POST /webhooks/helpdesk', async () => {
    expect(await fuzz(routes.helpdesk as Route, 600)).toEqual(expect.arrayContaining([200, 400, 401, 415]));
  }, 120_000);

  it('ingest: 400 requests to POST /webhooks/mailgun/events', async () => {
    // Mailgun answers 406 for a stale or replayed token; its signature is in the body.
    expect(await fuzz(routes.mailgunEvents as Route, 400)).toEqual(expect.arrayContaining([200, 400, 401, 415]));
  }, 120_000);

  it('webhooks: 400 requests to POST /webhooks/agent-desk', async () => {
    expect(await fuzz(routes.agentDesk as Route, 400)).toEqual(expect.arrayContaining([200, 400, 401, 415]));
  }, 120_000);
});

/**
 * What the fuzz (and requests to made-up paths) left in the edges' metrics: every label value
 * comes from a fixed set (route patterns, never URLs; providers, reasons and kinds named in the
 * code), so no request can grow a series.
 */
describe('metric labels stay bounded', () => {
  const allowed: Record<string, (v: string, app: Edge['app']) => boolean> = {
    method: (v) => METHODS.includes(v),
    route: (v, app) => v === 'unmatched' || ['GET', 'POST'].some((method) => app.hasRoute({ method, url: v })),
    status_code: (v) => /^[1-5]\d\d$/.test(v),
    provider: (v) => ['whatsapp', 'mailgun', 'genesys', 'helpdesk', 'agent_desk'].includes(v),
    reason: (v) => ['missing_signature', 'bad_timestamp', 'stale_timestamp', 'bad_signature', 'replayed'].includes(v),
    kind: (v) => v === 'typing' || /^[a-z]+(\.[a-z_]+)+$/.test(v) || ['known', 'unknown'].includes(v),
    result: (v) => ['known', 'unknown', 'failed', 'loaded', 'unchanged', 'missing'].includes(v),
    exchange: (v) => v.endsWith('switchboard.inbound'),
  };
  const bounded = [
    'http_requests_total',
    'http_request_duration_seconds',
    'webhook_signature_failures_total',
    'webhook_parked_total',
    'webhook_events_total',
    'channel_secret_lookups_total',
    'channel_secrets_cached',
    'channel_secrets_loads_total',
    'channel_secrets_accounts',
    'amqp_published_total',
  ];

  it.each(['ingest', 'webhooks'] as const)('%s: every label value is one of a fixed set', async (name) => {
    const edge = p[name];
    const paths = ['/webhooks/whatsapp/x', `/${randomUUID()}`, `/webhooks/genesys?id=${randomUUID()}`, '/%zz', '/..'];
    for (const url of paths) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'] as const) {
        expect(
          (await edge.app.inject({ method, url, payload: method === 'POST' ? '{}' : undefined })).statusCode,
        ).toBeLessThan(500);
      }
    }
    const metrics = await edge.metrics.registry.getMetricsAsJSON();
    for (const metric of metrics.filter((m) => bounded.includes(m.name))) {
      const series = new Set<string>();
      for (const value of metric.values) {
        const { le: _bucket, service: _service, ...labels } = value.labels as Record<string, string>;
        series.add(JSON.stringify(labels));
        for (const [label, v] of Object.entries(labels)) {
          const ok = allowed[label];
          expect(ok, `${metric.name}: label ${label} is one we know`).toBeDefined();
          expect(ok?.(String(v), edge.app), `${metric.name}{${label}="${v}"}`).toBe(true);
        }
      }
      expect(series.size, metric.name).toBeLessThan(80);
    }
  });
});
