import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currentUserId, decideIdentity, type IdentityMatch } from './customer-identity.ts';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('decideIdentity', () => {
  it.each<[string, IdentityMatch[], ReturnType<typeof decideIdentity>]>([
    ['nobody known: a new customer', [], { kind: 'create' }],
    [
      'one customer, named twice',
      [
        { id: 'a', createdAt: at(1) },
        { id: 'a', createdAt: at(1) },
      ],
      { kind: 'use', customerId: 'a' },
    ],
    [
      'two customers: the older survives',
      [
        { id: 'b', createdAt: at(2) },
        { id: 'a', createdAt: at(5) },
      ],
      { kind: 'merge', survivorId: 'b', absorbedIds: ['a'] },
    ],
    [
      'created together: the smaller id survives',
      [
        { id: 'z', createdAt: at(1) },
        { id: 'c', createdAt: at(1) },
        { id: 'x', createdAt: at(0) },
      ],
      { kind: 'merge', survivorId: 'x', absorbedIds: ['c', 'z'] },
    ],
  ])('%s', (_name, matches, expected) => {
    expect(decideIdentity(matches)).toEqual(expected);
  });
});

describe('currentUserId', () => {
  it('is the id no notice superseded; with two, the larger; none, undefined', () => {
    expect(
      currentUserId([
        { userId: 'US.1', superseded: true },
        { userId: 'US.2', superseded: false },
      ]),
    ).toBe('US.2');
    expect(
      currentUserId([
        { userId: 'US.9', superseded: false },
        { userId: 'US.3', superseded: false },
      ]),
    ).toBe('US.9');
    expect(currentUserId([{ userId: 'US.1', superseded: true }])).toBeUndefined();
  });
});

/**
 * A model of the store: customers holding ids (`u:` user ids, `p:` the phone), created in order,
 * merged into a survivor. Observations are applied with the rule exactly as the worker applies it.
 */
type Observation = { kind: 'message'; keys: string[] } | { kind: 'notice'; previous: string; next: string };

function applyAll(observations: Observation[]) {
  const owner = new Map<string, string>(); // key → customer
  const created = new Map<string, Date>();
  const mergedInto = new Map<string, string>();
  const superseded = new Set<string>();
  let seq = 0;
  for (const o of observations) {
    const keys = o.kind === 'message' ? o.keys : [`u:${o.previous}`, `u:${o.next}`];
    if (o.kind === 'notice') superseded.add(`u:${o.previous}`);
    const matches = keys.flatMap((k) => {
      const c = owner.get(k);
      return c ? [{ id: c, createdAt: created.get(c) as Date }] : [];
    });
    const d = decideIdentity(matches);
    let target: string;
    if (d.kind === 'create') {
      target = `c${String(seq).padStart(3, '0')}`;
      created.set(target, at(seq++));
    } else if (d.kind === 'use') target = d.customerId;
    else {
      target = d.survivorId;
      for (const absorbed of d.absorbedIds) {
        mergedInto.set(absorbed, target);
        for (const [k, c] of owner) if (c === absorbed) owner.set(k, target);
      }
    }
    for (const k of keys) owner.set(k, target);
  }
  const live = [...created.keys()].filter((c) => !mergedInto.has(c));
  const idsOf = (c: string) =>
    [...owner]
      .filter(([k, o]) => o === c && k.startsWith('u:'))
      .map(([k]) => ({ userId: k.slice(2), superseded: superseded.has(k) }));
  return { live, owner, idsOf };
}

describe('any interleaving of one person’s observations', () => {
  it('ends with one customer holding every id, addressed by the last id of the chain', () => {
    const person = fc
      .record({
        chain: fc.integer({ min: 1, max: 5 }),
        messages: fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        phoneAt: fc.option(fc.nat()),
      })
      .chain(({ chain, messages, phoneAt }) => {
        const ids = Array.from({ length: chain + 1 }, (_, i) => `US.${100 + i}`);
        const observations: Observation[] = [
          ...ids.slice(1).map((next, i) => ({ kind: 'notice' as const, previous: ids[i] as string, next })),
          ...messages.map((n, i) => ({
            kind: 'message' as const,
            keys: [
              `u:${ids[n % ids.length]}`,
              ...(phoneAt !== null && phoneAt % messages.length === i ? ['p:+16315551181'] : []),
            ],
          })),
        ];
        return fc.tuple(fc.constant(ids), fc.shuffledSubarray(observations, { minLength: observations.length }));
      });
    fc.assert(
      fc.property(person, ([ids, observations]) => {
        const { live, owner, idsOf } = applyAll(observations);
        expect(live).toHaveLength(1);
        const [customer] = live as [string];
        for (const [, c] of owner) expect(c).toBe(customer);
        // Every id was seen (notices name them all), and the chain's last one is current.
        expect(
          idsOf(customer)
            .map((i) => i.userId)
            .sort(),
        ).toEqual([...ids].sort());
        expect(currentUserId(idsOf(customer))).toBe(ids[ids.length - 1]);
      }),
      { numRuns: 2000 },
    );
  });
});
