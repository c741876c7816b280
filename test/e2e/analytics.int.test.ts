import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The analytics report (issue 18) against figures worked out by hand, on a scripted day: the
 * rows are written with the times the script gives (the pipeline stamps Postgres' own clock, which
 * a test cannot move), through the real `messages` trigger that keeps `conversation_metrics`.
 *
 * 2026-03-02 (UTC):
 *   A  WhatsApp, op-1: customer 09:00, 09:02; reply 09:05 (5 min); customer 09:10; reply 09:11 (1 min); closed 10:00
 *   B  WhatsApp, op-2: customer 12:00; reply 12:30 (30 min); closed 2026-03-03 01:00
 *   C  email, nobody: our email 15:00 (no question, no response); the lead 16:00, unanswered
 *   D  WhatsApp, op-1: opened 2026-03-01 23:00, closed 2026-03-02 08:00
 */
let p: Pipeline;
const MIN = 60_000;
const HOUR = 60 * MIN;

type Script = {
  provider: 'whatsapp' | 'mailgun';
  agent: string | null;
  opened: string;
  closed: string | null;
  messages: Array<[direction: 'inbound' | 'outbound', at: string]>;
};
const script: Record<string, Script> = {
  A: {
    provider: 'whatsapp',
    agent: 'op-1',
    opened: '2026-03-02T09:00:00Z',
    closed: '2026-03-02T10:00:00Z',
    messages: [
      ['inbound', '2026-03-02T09:00:00Z'],
      ['inbound', '2026-03-02T09:02:00Z'],
      ['outbound', '2026-03-02T09:05:00Z'],
      ['inbound', '2026-03-02T09:10:00Z'],
      ['outbound', '2026-03-02T09:11:00Z'],
    ],
  },
  B: {
    provider: 'whatsapp',
    agent: 'op-2',
    opened: '2026-03-02T12:00:00Z',
    closed: '2026-03-03T01:00:00Z',
    messages: [
      ['inbound', '2026-03-02T12:00:00Z'],
      ['outbound', '2026-03-02T12:30:00Z'],
    ],
  },
  C: {
    provider: 'mailgun',
    agent: null,
    opened: '2026-03-02T15:00:00Z',
    closed: null,
    messages: [
      ['outbound', '2026-03-02T15:00:00Z'],
      ['inbound', '2026-03-02T16:00:00Z'],
    ],
  },
  D: {
    provider: 'whatsapp',
    agent: 'op-1',
    opened: '2026-03-01T23:00:00Z',
    closed: '2026-03-02T08:00:00Z',
    messages: [],
  },
};

beforeAll(async () => {
  p = await startPipeline();
  const { tenantId, channels } = p.tenant;
  for (const [name, s] of Object.entries(script)) {
    const customer = await p.pool.query<{ id: string }>(
      `insert into customers (tenant_id, name) values ($1, $2) returning id`,
      [tenantId, `Customer ${name}`],
    );
    const conv = await p.pool.query<{ id: string }>(
      `insert into conversations (tenant_id, customer_id, channel_id, provider, status, agent_id, opened_at, closed_at, last_activity_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $7) returning id`,
      [
        tenantId,
        customer.rows[0]?.id,
        channels[s.provider],
        s.provider,
        s.closed ? 'closed' : 'open',
        s.agent,
        s.opened,
        s.closed,
      ],
    );
    // One message per statement, in the script's order, as the pipeline stores them.
    for (const [i, [direction, at]] of s.messages.entries())
      await p.pool.query(
        `insert into messages (tenant_id, conversation_id, direction, provider, provider_message_id, type, received_at)
         values ($1, $2, $3, $4, $5, 'text', $6)`,
        [tenantId, conv.rows[0]?.id, direction, s.provider, `script-${name}-${i}`, at],
      );
  }
});
afterAll(async () => {
  await p.stop();
});

const report = async (from: string, to: string, groupBy: string) => {
  const res = await p.api(`/analytics/conversations?from=${from}&to=${to}&groupBy=${groupBy}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { groups: Array<Record<string, unknown>>; totals: Record<string, unknown> };
};

describe('GET /analytics/conversations on a scripted day', () => {
  it('totals: opened and closed in the range, duration, messages, first and average response', async () => {
    const r = await report('2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z', 'day');
    expect(r.totals).toEqual({
      key: 'total',
      opened: 3, // A, B, C (D opened the day before)
      closed: 2, // A at 10:00 and D at 08:00 (B closes the next day)
      avgDurationMs: (1 * HOUR + 9 * HOUR) / 2,
      messagesPerConversation: 3, // (5 + 2 + 2) / 3
      respondedConversations: 2, // A and B; C's only question is unanswered
      avgFirstResponseMs: (5 * MIN + 30 * MIN) / 2,
      avgResponseMs: (5 * MIN + 1 * MIN + 30 * MIN) / 3,
      responses: 3,
    });
    expect(r.groups).toEqual([{ ...r.totals, key: '2026-03-02' }]);
  });

  it('by day: each conversation counted on the day it opened, and on the day it closed', async () => {
    const r = await report('2026-03-02T00:00:00Z', '2026-03-04T00:00:00Z', 'day');
    expect(r.groups.map((g) => [g.key, g.opened, g.closed, g.avgDurationMs])).toEqual([
      ['2026-03-02', 3, 2, 5 * HOUR],
      ['2026-03-03', 0, 1, 13 * HOUR],
    ]);
  });

  it('by channel and by agent', async () => {
    const byChannel = await report('2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z', 'channel');
    expect(
      byChannel.groups.map((g) => [g.key, g.opened, g.closed, g.avgFirstResponseMs, g.messagesPerConversation]),
    ).toEqual([
      ['mailgun', 1, 0, null, 2],
      ['whatsapp', 2, 2, (5 * MIN + 30 * MIN) / 2, 3.5],
    ]);
    const byAgent = await report('2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z', 'agent');
    expect(byAgent.groups.map((g) => [g.key, g.opened, g.closed, g.responses, g.avgResponseMs])).toEqual([
      ['(none)', 1, 0, 0, null],
      ['op-1', 1, 2, 2, 3 * MIN],
      ['op-2', 1, 0, 1, 30 * MIN],
    ]);
  });

  it('refuses a bad range with 400', async () => {
    for (const q of [
      'from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z',
      'from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'from=yesterday&to=2026-03-01T00:00:00Z',
      'from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&groupBy=week',
    ])
      expect((await p.api(`/analytics/conversations?${q}`)).status).toBe(400);
  });
});
