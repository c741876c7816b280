import { describe, expect, it } from 'vitest';
import { compareSeq } from './event-log.ts';
import { Hub, offer, type Subscriber } from './hub.ts';

const client = (tenantId: string): Subscriber & { got: string[] } => {
  const got: string[] = [];
  return { tenantId, topics: new Set(), cursor: undefined, pending: undefined, got, send: (f) => got.push(f) > 0 };
};

describe('Hub', () => {
  it("finds a tenant's subscribers of any of the topics, each once, and never another tenant's", () => {
    const hub = new Hub();
    const a = client('A');
    const b = client('B');
    hub.subscribe(a, ['queue', 'conversation_states']);
    hub.subscribe(b, ['queue']);
    expect([...hub.audience('A', ['queue', 'conversation_states'])]).toEqual([a]);
    expect(hub.subscriptions).toBe(3);
    hub.remove(a);
    expect(hub.audience('A', ['queue']).size).toBe(0);
    expect(hub.subscriptions).toBe(1);
  });
});

describe('offer', () => {
  it('holds live frames during a replay and drops those at or before the cursor', () => {
    const c = client('A');
    c.pending = [];
    expect(offer(c, { seq: '5-0', frame: 'five' })).toBe(false);
    expect(c.pending).toHaveLength(1);
    c.pending = undefined;
    c.cursor = '5-0';
    offer(c, { seq: '5-0', frame: 'five again' });
    offer(c, { seq: '6-0', frame: 'six' });
    expect(c.got).toEqual(['six']);
  });
});

it('compareSeq orders stream ids numerically, not as text', () => {
  expect(compareSeq('10-0', '9-5')).toBeGreaterThan(0);
  expect(compareSeq('9-10', '9-9')).toBeGreaterThan(0);
  expect(compareSeq('9-1', '9-1')).toBe(0);
});
