import type { LeadState } from './lead.ts';

/**
 * The lead journey (seed 003): six stages with a progress percentage, an engagement and a
 * qualification score, and a milestone for each stage reached. Stages only move forward.
 */
export const JOURNEY_STAGES = ['cold', 'responding', 'engaged', 'interested', 'qualified', 'handover_ready'] as const;
export type JourneyStage = (typeof JOURNEY_STAGES)[number];

export const STAGE_PROGRESS: Readonly<Record<JourneyStage, number>> = {
  cold: 10,
  responding: 25,
  engaged: 40,
  interested: 65,
  qualified: 85,
  handover_ready: 100,
};

export const STAGE_MILESTONE: Readonly<Record<JourneyStage, string>> = {
  cold: 'FIRST_CONTACT',
  responding: 'FIRST_RESPONSE',
  engaged: 'MULTIPLE_EXCHANGES',
  interested: 'INTENT_SIGNAL',
  qualified: 'QUALIFICATION_COMPLETE',
  handover_ready: 'HANDOVER_READY',
};

export interface JourneyCounters {
  outboundCount: number;
  inboundCount: number;
  openCount: number;
  clickCount: number;
  /** Hours from the first outbound email to the lead's first reply; null before either. */
  firstReplyHours: number | null;
  interestSignals: number;
  purchaseSignals: number;
}

export const emptyCounters = (): JourneyCounters => ({
  outboundCount: 0,
  inboundCount: 0,
  openCount: 0,
  clickCount: 0,
  firstReplyHours: null,
  interestSignals: 0,
  purchaseSignals: 0,
});

/** 0–100: opens (5 each, up to 4), clicks (10 each, up to 2), replies (15 each, up to 3), a reply within 48 h (15). */
export function engagementScore(c: JourneyCounters): number {
  const quick = c.firstReplyHours !== null && c.firstReplyHours <= 48 ? 15 : 0;
  return Math.min(
    100,
    Math.min(c.openCount, 4) * 5 + Math.min(c.clickCount, 2) * 10 + Math.min(c.inboundCount, 3) * 15 + quick,
  );
}

/** 0–100: interest signals (20 each, up to 2) and purchase signals (30 each, up to 2). */
export function qualificationScore(c: JourneyCounters): number {
  return Math.min(100, Math.min(c.interestSignals, 2) * 20 + Math.min(c.purchaseSignals, 2) * 30);
}

const INTEREST =
  /\b(interested|interest|tell me more|more info(rmation)?|details|brochure|available|availability|options?)\b/i;
const PURCHASE =
  /\b(price|pricing|quote|cost|buy|purchase|financing|finance|test drive|demo|schedule|book|contract|budget|order)\b/i;

/** Interest and purchase signals in a lead's message text (keyword detection, as the seed does). */
export function detectSignals(text: string | null | undefined): { interest: boolean; purchase: boolean } {
  const t = text ?? '';
  return { interest: INTEREST.test(t), purchase: PURCHASE.test(t) };
}

const rank = (s: JourneyStage) => JOURNEY_STAGES.indexOf(s);

/** The seed's responding window: a first reply within this many hours of our first email. */
export const RESPONDING_WINDOW_HOURS = 48;

/**
 * Whether the lead's first reply came within the responding window. A lead who wrote first
 * (no email of ours before their reply: `firstReplyHours` null) had no window to miss.
 */
export const repliedInWindow = (c: JourneyCounters) =>
  c.inboundCount > 0 && (c.firstReplyHours === null || c.firstReplyHours <= RESPONDING_WINDOW_HOURS);

/**
 * The stage the facts support now (before applying "never backwards"), per seed 003: responding
 * needs the first reply within 48 hours (a slower lead stays cold until a later stage's criteria
 * hold), engaged three exchanges and engagement over 40, interested a detected interest (or
 * purchase) signal, qualified the QUALIFIED state or a purchase signal with engagement over 60,
 * handover-ready the READY_FOR_HANDOVER state or later.
 */
export function stageFor(state: LeadState, c: JourneyCounters): JourneyStage {
  const engagement = engagementScore(c);
  if (state === 'READY_FOR_HANDOVER' || state === 'HANDED_OVER') return 'handover_ready';
  if (state === 'QUALIFIED' || (c.purchaseSignals > 0 && engagement > 60)) return 'qualified';
  if (c.inboundCount > 0 && c.interestSignals + c.purchaseSignals > 0) return 'interested';
  if (c.inboundCount >= 3 && engagement > 40) return 'engaged';
  if (repliedInWindow(c)) return 'responding';
  return 'cold';
}

/**
 * The stages whose milestone is due and not yet `earned`, in order: every stage up to `stage`,
 * and cold's FIRST_CONTACT as soon as our first email went out (seed 003: "initial email sent"),
 * even while the lead stays cold. A lead who wrote first earns it when it leaves cold.
 */
export function milestonesDue(stage: JourneyStage, c: JourneyCounters, earned: readonly string[]): JourneyStage[] {
  return JOURNEY_STAGES.slice(0, rank(stage) + 1).filter(
    (s) => !earned.includes(STAGE_MILESTONE[s]) && (s !== 'cold' || stage !== 'cold' || c.outboundCount > 0),
  );
}

/** The next stage: the stage the facts support, never behind the current one. */
export function nextStage(current: JourneyStage, state: LeadState, c: JourneyCounters): JourneyStage {
  const s = stageFor(state, c);
  return rank(s) > rank(current) ? s : current;
}

/** Stages passed on the way from `from` to `to` (exclusive, inclusive), each earning its milestone. */
export function stagesBetween(from: JourneyStage, to: JourneyStage): JourneyStage[] {
  return JOURNEY_STAGES.slice(rank(from) + 1, rank(to) + 1);
}
