import { switchboardTopology, topicMatches } from '@switchboard/platform';
import { describe, expect, it } from 'vitest';
import { routes } from './routes.ts';

describe('the routing table', () => {
  const { queues, consumers, names } = switchboardTopology();
  const bindings = queues.find((q) => q.name === consumers.assignmentEvents.name)?.bindings ?? [];
  // A routing key arrives on the exchange its CloudEvents type says: domain events on
  // switchboard.events, the desk's inbound events on switchboard.inbound.
  const exchangeOf = (type: string) => (type.startsWith('switchboard.inbound.') ? names.inbound : names.events);
  const table = Object.entries(routes).map(([type, r]) => ({ exchange: exchangeOf(type), key: r.key }));

  it('has a binding for every routed key, so no handler waits for events that never come', () => {
    for (const { exchange, key } of table)
      expect(
        bindings.some((b) => b.exchange === exchange && topicMatches(b.pattern, key)),
        `${exchange} ${key}`,
      ).toBe(true);
  });

  it('has a route for every binding, so nothing the queue receives is unroutable', () => {
    for (const b of bindings)
      expect(
        table.some((r) => r.exchange === b.exchange && topicMatches(b.pattern, r.key)),
        `${b.exchange} ${b.pattern}`,
      ).toBe(true);
  });

  it('routes each type under the routing key its CloudEvents type names', () => {
    for (const [type, r] of Object.entries(routes)) expect(type.endsWith(`.${r.key}.v1`), type).toBe(true);
  });
});
