/**
 * Retention per tenant (seed 001): how long the parts of a closed conversation are kept, in days
 * after it closed. A part is archived, then removed, once its conversation has been closed longer
 * than its period; an open conversation is never touched.
 */
export const RETENTION_PARTS = [
  /** The conversation itself and everything that hangs on it (its tickets among them). */
  'conversationDays',
  'messageDays',
  /** Media metadata (ids, captions, file names); the bytes stay with the provider. */
  'mediaDays',
  /** The text of email messages (the rows and their threading headers stay until `messageDays`). */
  'emailBodyDays',
  /** Past statuses of the conversation and its tickets; the current one stays with its entity. */
  'statusHistoryDays',
  /** The lead journey and its transitions. */
  'leadDays',
] as const;
export type RetentionPart = (typeof RETENTION_PARTS)[number];
export type RetentionPolicy = Record<RetentionPart, number>;

/** What a tenant without a policy of its own gets. */
export const DEFAULT_RETENTION: RetentionPolicy = {
  conversationDays: 730,
  messageDays: 365,
  mediaDays: 90,
  emailBodyDays: 180,
  statusHistoryDays: 730,
  leadDays: 365,
};

/** The longest period accepted (ten years): a typo of an extra digit is refused, not kept forever. */
export const MAX_RETENTION_DAYS = 3_650;

export type PolicyCheck = { kind: 'ok'; policy: RetentionPolicy } | { kind: 'reject'; reason: string };

/**
 * A policy is coherent when every period is a whole number of days in [1, MAX_RETENTION_DAYS] and
 * no part outlives its conversation (removing the conversation removes its parts with it, so a
 * longer period would be a promise the store cannot keep).
 */
export function checkRetentionPolicy(policy: RetentionPolicy): PolicyCheck {
  for (const part of RETENTION_PARTS) {
    const days = policy[part];
    if (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS)
      return { kind: 'reject', reason: `${part} must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}` };
    if (days > policy.conversationDays)
      return {
        kind: 'reject',
        reason: `${part} (${days}) is longer than conversationDays (${policy.conversationDays})`,
      };
  }
  return { kind: 'ok', policy };
}

/** The policy after a partial change, checked as a whole. */
export const changeRetentionPolicy = (current: RetentionPolicy, change: Partial<RetentionPolicy>): PolicyCheck =>
  checkRetentionPolicy({ ...current, ...change });

/** The close time before which a part is due, at `now`. */
export const retentionCutoff = (policy: RetentionPolicy, part: RetentionPart, now: Date): Date =>
  new Date(now.getTime() - policy[part] * 86_400_000);
