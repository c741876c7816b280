/**
 * Which customer an identity belongs to, when a person may be known by a phone number, one or more
 * WhatsApp business-scoped user ids (a new one after each `user_changed_user_id`), or both, and the
 * observations (messages, statuses, calls, notices) arrive in any order.
 *
 * The ids an observation carries are linked: they name one person. The customers those ids already
 * lead to are the matches. None: a new customer. One: that customer, which takes the ids it lacks.
 * Several: they are one person, so they merge into the oldest (earliest created, then smallest id),
 * whatever order the observations came in; the others keep a pointer to it and never come back.
 * Because the survivor is fixed by age and the ids only ever gain links, every interleaving of the
 * same observations ends with one customer holding every id (see customer-identity.test.ts).
 */

export interface IdentityMatch {
  id: string;
  createdAt: Date;
}

export type IdentityDecision =
  | { kind: 'create' }
  | { kind: 'use'; customerId: string }
  | { kind: 'merge'; survivorId: string; absorbedIds: string[] };

const olderFirst = (a: IdentityMatch, b: IdentityMatch) =>
  a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function decideIdentity(matches: readonly IdentityMatch[]): IdentityDecision {
  const distinct = [...new Map(matches.map((m) => [m.id, m])).values()].sort(olderFirst);
  const [survivor, ...absorbed] = distinct;
  if (!survivor) return { kind: 'create' };
  if (absorbed.length === 0) return { kind: 'use', customerId: survivor.id };
  return { kind: 'merge', survivorId: survivor.id, absorbedIds: absorbed.map((m) => m.id) };
}

export interface KnownUserId {
  userId: string;
  /** A notice named it as someone's previous id: set once, never cleared. */
  superseded: boolean;
}

/**
 * The id a customer is addressed by now: one no notice has superseded. Two such ids (the person's
 * id changed and the notice has not arrived yet) are settled by the larger, only so that every
 * replica and every order agree; the notice, when it comes, supersedes the old one.
 */
export function currentUserId(ids: readonly KnownUserId[]): string | undefined {
  let current: string | undefined;
  for (const { userId, superseded } of ids) {
    if (!superseded && (current === undefined || userId > current)) current = userId;
  }
  return current;
}
