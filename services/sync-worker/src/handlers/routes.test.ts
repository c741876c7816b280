import { createEvent, encodeEvent, inboundType } from '@switchboard/contracts';
import { createLogger, switchboardTopology, topicMatches } from '@switchboard/platform';
import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { Deps } from '../deps.ts';
import { createBatchHandler } from './batch.ts';
import { routes } from './routes.ts';

describe('the routing table', () => {
  const { queues, consumers } = switchboardTopology();
  const bindings = queues.find((q) => q.name === consumers.syncInbound.name)?.bindings ?? [];

  it('has a binding for every routed key, so no handler waits for events that never come', () => {
    for (const key of Object.keys(routes))
      expect(
        bindings.some((b) => topicMatches(b.pattern, key)),
        key,
      ).toBe(true);
  });

  it('has a route for every binding, so nothing the queue receives is unroutable', () => {
    for (const b of bindings)
      expect(
        Object.keys(routes).some((key) => topicMatches(b.pattern, key)),
        b.pattern,
      ).toBe(true);
  });
});

describe('dispatch', () => {
  const handle = createBatchHandler({} as Deps);
  const ctx = { attempt: 1, logger: createLogger('test', 'silent') };
  const delivery = (content: Buffer) =>
    ({ content, fields: {}, properties: { headers: {} } }) as unknown as ConsumeMessage;

  it.each([
    ['a body that is not JSON', Buffer.from('nope'), /^invalid_envelope/],
    ['JSON that is not a CloudEvent', Buffer.from('{"id":1}'), /^invalid_envelope/],
    [
      'an event type with no handler',
      encodeEvent(createEvent({ source: '/t', type: 'switchboard.inbound.fax.received.v1', data: {} })),
      /^unknown_type/,
    ],
    [
      'a payload its schema rejects',
      encodeEvent(
        createEvent({ source: '/t', type: inboundType('whatsapp.message.received'), data: { provider: 'whatsapp' } }),
      ),
      /^invalid_payload/,
    ],
  ])('declares %s dead on arrival, without retries', async (_name, content, reason) => {
    const [outcome] = await handle([{ msg: delivery(content), ctx }]);
    expect(outcome?.kind).toBe('dead');
    expect(outcome?.kind === 'dead' && outcome.reason).toMatch(reason);
  });
});
