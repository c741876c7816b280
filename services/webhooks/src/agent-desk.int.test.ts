import { randomUUID } from 'node:crypto';
import {
  AgentDeskConversationRequested,
  AgentDeskOperatorReplied,
  AgentDeskOperatorStatusChanged,
  eventId,
} from '@switchboard/contracts';
import { signHmacSha256 } from '@switchboard/platform';
import { baseUrl } from '@switchboard/test-pipeline';
import {
  agentDeskEvent,
  collectEvents,
  type EventCollector,
  signedAgentDesk,
  signedTimestamped,
  testNamespace,
  testRedisPrefix,
  testUrls,
} from '@switchboard/testing';
import amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from './config.ts';
import { startWebhooks, type Webhooks } from './service.ts';

const namespace = testNamespace();
const redisPrefix = testRedisPrefix();
let edge: Webhooks;
let url: string;
let inbound: EventCollector;

beforeAll(async () => {
  await redisPrefix.ready;
  edge = await startWebhooks(
    loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      AMQP_URL: testUrls.amqp,
      REDIS_URL: testUrls.redis,
      AMQP_NAMESPACE: namespace.ns,
      REDIS_KEY_PREFIX: redisPrefix.prefix,
      WEBHOOKS_PORT: '0',
      WEBHOOKS_HOST: '127.0.0.1',
      AGENT_DESK_BODY_LIMIT_BYTES: '4096',
    }),
  );
  await edge.broker.ready();
  url = baseUrl(edge.app);
});
afterAll(async () => {
  await edge.lifecycle.stop();
  await Promise.allSettled([namespace.cleanup(), redisPrefix.cleanup()]);
});

/** A downstream queue for agent-desk events; without one, `mandatory` publishes fail (503). */
async function bindCollector() {
  inbound = await collectEvents(edge.topology.names.inbound, 'agentdesk.#');
  return inbound;
}
afterEach(async () => {
  await inbound?.close();
});

const post = (req: { body: string; headers: Record<string, string> }) =>
  fetch(`${url}/webhooks/agent-desk`, { method: 'POST', body: req.body, headers: req.headers });

const conversationId = randomUUID();

describe('POST /webhooks/agent-desk', () => {
  it.each([
    ['conversation.assign_requested', 'assign'],
    ['conversation.release_requested', 'release'],
    ['conversation.close_requested', 'close'],
  ])('publishes %s as agentdesk.conversation.requested (%s)', async (type, action) => {
    const c = await bindCollector();
    const webhook = agentDeskEvent(type, { conversationId, operatorId: 'op-7', reason: 'shift change' });
    const res = await post(signedAgentDesk(webhook));
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(c.received).toHaveLength(1));
    const [got] = c.received;
    expect(got?.routingKey).toBe('agentdesk.conversation.requested');
    expect(got?.event).toMatchObject({
      id: eventId('agent_desk', 'dev-agent-desk', webhook.id),
      type: 'switchboard.inbound.agentdesk.conversation.requested.v1',
      subject: conversationId,
    });
    expect(AgentDeskConversationRequested.parse(got?.event.data)).toEqual({
      provider: 'agent_desk',
      accountId: 'dev-agent-desk',
      deskEventId: webhook.id,
      at: webhook.occurredAt,
      action,
      conversationId,
      operatorId: 'op-7',
      reason: 'shift change',
    });
  });

  it('publishes operator status and replies under their own routing keys', async () => {
    const c = await bindCollector();
    const status = agentDeskEvent('operator.status_changed', { operatorId: 'op-7', status: 'online', capacity: 3 });
    const reply = agentDeskEvent('operator.replied', {
      conversationId,
      operatorId: 'op-7',
      messageId: 'desk-msg-1',
      text: 'On it!',
    });
    expect((await post(signedAgentDesk(status))).status).toBe(200);
    expect((await post(signedAgentDesk(reply))).status).toBe(200);
    await vi.waitFor(() => expect(c.received).toHaveLength(2));
    const s = AgentDeskOperatorStatusChanged.parse(c.ofKey('agentdesk.operator.status.changed')[0]?.event.data);
    expect(s).toMatchObject({ operatorId: 'op-7', status: 'online', capacity: 3 });
    const r = AgentDeskOperatorReplied.parse(c.ofKey('agentdesk.operator.replied')[0]?.event.data);
    expect(r).toMatchObject({ conversationId, operatorId: 'op-7', messageId: 'desk-msg-1', text: 'On it!' });
  });

  it('gives a re-sent delivery (new timestamp, same desk id) the same event id, for the consumer inbox', async () => {
    const c = await bindCollector();
    const webhook = agentDeskEvent('operator.status_changed', { operatorId: 'op-8', status: 'away' });
    expect((await post(signedAgentDesk(webhook, new Date(Date.now() - 2_000)))).status).toBe(200);
    expect((await post(signedAgentDesk(webhook))).status).toBe(200);
    await vi.waitFor(() => expect(c.received).toHaveLength(2));
    expect(new Set(c.received.map((r) => r.event.id)).size).toBe(1);
  });

  it('refuses the same signed request a second time (replay), however its hex is cased, and publishes it once', async () => {
    const c = await bindCollector();
    const published = async () =>
      (await edge.metrics.publisher.published.get()).values.reduce((s, v) => s + v.value, 0);
    const req = signedAgentDesk(agentDeskEvent('operator.status_changed', { operatorId: 'op-9', status: 'online' }));
    expect((await post(req)).status).toBe(200);
    const before = await published();
    const signature = req.headers['x-signature-256'] as string;
    const recased = { ...req.headers, 'x-signature-256': `sha256=${signature.slice(7).toUpperCase()}` };
    for (const headers of [req.headers, recased]) {
      const replay = await post({ body: req.body, headers });
      expect(replay.status).toBe(401);
      expect(await replay.json()).toMatchObject({ error: 'replayed' });
    }
    // An accepted request was confirmed by the broker before its 200: nothing more went out since.
    expect(await published()).toBe(before);
    await vi.waitFor(() => expect(c.received).toHaveLength(1));
  });

  const valid = () => agentDeskEvent('operator.status_changed', { operatorId: 'op-1', status: 'online' });
  it.each([
    ['no signature', () => ({ ...signedAgentDesk(valid()), headers: { 'content-type': 'application/json' } }), 401],
    [
      'a wrong secret',
      () => {
        const body = JSON.stringify(valid());
        const ts = String(Math.floor(Date.now() / 1000));
        return {
          body,
          headers: {
            'content-type': 'application/json',
            'x-timestamp': ts,
            'x-signature-256': signHmacSha256(`${ts}.${body}`, 'not-the-secret', 'hex'),
          },
        };
      },
      401,
    ],
    ['a stale timestamp', () => signedAgentDesk(valid(), new Date(Date.now() - 6 * 60_000)), 401],
    ['a timestamp from the future', () => signedAgentDesk(valid(), new Date(Date.now() + 6 * 60_000)), 401],
    ['malformed JSON', () => signedAgentDesk('{"id": "x",'), 400],
    // Not JSON, it names no account: only the env default secret verifies it, before any 400.
    ['malformed JSON signed with another secret', () => signedTimestamped('{"id": "x",', 'not-the-secret'), 401],
    ['an unknown type', () => signedAgentDesk(agentDeskEvent('operator.teleported', { operatorId: 'x' })), 400],
    [
      'a conversation id that is not a UUID',
      () => signedAgentDesk(agentDeskEvent('conversation.close_requested', { conversationId: '42', operatorId: 'x' })),
      400,
    ],
    ['an oversized body', () => signedAgentDesk(agentDeskEvent('operator.replied', { text: 'x'.repeat(5000) })), 413],
    ['a wrong content type', () => ({ ...signedAgentDesk(valid()), headers: { 'content-type': 'text/plain' } }), 415],
  ])('answers %s with its status and publishes nothing', async (_name, make, status) => {
    const c = await bindCollector();
    const res = await post(make());
    expect(res.status).toBe(status);
    expect(await res.json()).toHaveProperty('message');
    await new Promise((r) => setTimeout(r, 200));
    expect(c.received).toEqual([]);
  });

  it('answers 503 when no queue takes the event, and accepts the same request once one does', async () => {
    // The topology binds operator status to the assignment-worker's queue: take it away.
    const conn = await amqp.connect(testUrls.amqp);
    const ch = await conn.createChannel();
    await ch.deleteQueue(edge.topology.consumers.assignmentEvents.name);
    await conn.close();
    const req = signedAgentDesk(agentDeskEvent('operator.status_changed', { operatorId: 'op-2', status: 'offline' }));
    const unrouted = await post(req);
    expect(unrouted.status).toBe(503);
    expect(unrouted.headers.get('retry-after')).toBe('5');
    // The failed attempt released its replay claim: the sender's retry is not a replay.
    const c = await bindCollector();
    expect((await post(req)).status).toBe(200);
    await vi.waitFor(() => expect(c.received).toHaveLength(1));
  });
});
