import { describe, expect, it } from 'vitest';
import {
  detectSignals,
  emptyCounters,
  engagementScore,
  type JourneyCounters,
  type JourneyStage,
  nextStage,
  qualificationScore,
  STAGE_PROGRESS,
  stagesBetween,
} from './lead-journey.ts';
import type { LeadState } from './lead-state.ts';

const c = (over: Partial<JourneyCounters>): JourneyCounters => ({ ...emptyCounters(), ...over });

describe('lead journey', () => {
  it('progress per stage is as the seed says', () => {
    expect(STAGE_PROGRESS).toEqual({
      cold: 10,
      responding: 25,
      engaged: 40,
      interested: 65,
      qualified: 85,
      handover_ready: 100,
    });
  });

  it.each<[string, LeadState, Partial<JourneyCounters>, JourneyStage]>([
    ['email sent', 'ACTIVE', { outboundCount: 1 }, 'cold'],
    ['first reply', 'ENGAGED', { outboundCount: 1, inboundCount: 1, firstReplyHours: 2 }, 'responding'],
    ['three replies', 'ENGAGED', { inboundCount: 3, firstReplyHours: 2 }, 'engaged'],
    ['three slow replies, no opens', 'ENGAGED', { inboundCount: 3, firstReplyHours: 90 }, 'engaged'],
    ['two slow replies', 'ENGAGED', { inboundCount: 2, firstReplyHours: 90 }, 'responding'],
    ['interest', 'ENGAGED', { inboundCount: 1, interestSignals: 1 }, 'interested'],
    [
      'purchase + engagement',
      'ENGAGED',
      { inboundCount: 3, firstReplyHours: 1, openCount: 2, purchaseSignals: 1 },
      'qualified',
    ],
    ['qualified state', 'QUALIFIED', { inboundCount: 1 }, 'qualified'],
    ['handover', 'READY_FOR_HANDOVER', {}, 'handover_ready'],
  ])('%s → %s', (_n, state, counters, stage) => {
    expect(nextStage('cold', state, c(counters))).toBe(stage);
  });

  it('never moves back', () => {
    expect(nextStage('qualified', 'CLOSED', c({}))).toBe('qualified');
  });

  it('scores are bounded', () => {
    const max = c({
      openCount: 50,
      clickCount: 50,
      inboundCount: 50,
      firstReplyHours: 1,
      interestSignals: 9,
      purchaseSignals: 9,
    });
    expect(engagementScore(max)).toBe(100);
    expect(qualificationScore(max)).toBe(100);
    expect(engagementScore(c({ openCount: 1 }))).toBe(5);
    expect(engagementScore(c({ inboundCount: 1, firstReplyHours: 49 }))).toBe(15);
  });

  it('earns a milestone for every stage passed', () => {
    expect(stagesBetween('cold', 'interested')).toEqual(['responding', 'engaged', 'interested']);
    expect(stagesBetween('qualified', 'qualified')).toEqual([]);
  });

  it.each([
    ["I'm interested, tell me more", { interest: true, purchase: false }],
    ['What is the price? Can I book a test drive?', { interest: false, purchase: true }],
    ['Thanks', { interest: false, purchase: false }],
  ])('signals in %j', (text, expected) => {
    expect(detectSignals(text)).toEqual(expected);
  });
});
