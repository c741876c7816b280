import { describe, expect, it } from 'vitest';
import type { LeadState } from './lead.ts';
import {
  detectSignals,
  emptyCounters,
  engagementScore,
  type JourneyCounters,
  type JourneyStage,
  milestonesDue,
  nextStage,
  qualificationScore,
  STAGE_PROGRESS,
  stagesBetween,
} from './lead-journey.ts';

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
    ['two slow replies: outside the 48-hour window', 'ENGAGED', { inboundCount: 2, firstReplyHours: 90 }, 'cold'],
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

  // Every stage rule of seed 003, at and either side of its thresholds.
  it.each<[string, LeadState, Partial<JourneyCounters>, JourneyStage]>([
    ['cold: nothing yet', 'NEW', {}, 'cold'],
    ['cold: our email, no reply', 'ACTIVE', { outboundCount: 1 }, 'cold'],
    [
      'responding: reply at 48 h exactly',
      'ENGAGED',
      { outboundCount: 1, inboundCount: 1, firstReplyHours: 48 },
      'responding',
    ],
    [
      'cold: reply at 48 h and a minute',
      'ENGAGED',
      { outboundCount: 1, inboundCount: 1, firstReplyHours: 48.02 },
      'cold',
    ],
    ['responding: the lead wrote first', 'ENGAGED', { inboundCount: 1, firstReplyHours: null }, 'responding'],
    [
      'responding: two quick replies (engagement 45, but two exchanges)',
      'ENGAGED',
      { inboundCount: 2, firstReplyHours: 1 },
      'responding',
    ],
    ['engaged: three exchanges, engagement 60', 'ENGAGED', { inboundCount: 3, firstReplyHours: 1 }, 'engaged'],
    [
      'engaged: three slow exchanges, engagement 45 > 40',
      'ENGAGED',
      { inboundCount: 3, firstReplyHours: 72 },
      'engaged',
    ],
    [
      'interested: an interest signal',
      'ENGAGED',
      { inboundCount: 1, firstReplyHours: 1, interestSignals: 1 },
      'interested',
    ],
    [
      'interested: a slow reply with interest',
      'ENGAGED',
      { inboundCount: 1, firstReplyHours: 72, interestSignals: 1 },
      'interested',
    ],
    [
      'interested: purchase, engagement 60 (not over 60)',
      'ENGAGED',
      { inboundCount: 3, firstReplyHours: 1, purchaseSignals: 1 },
      'interested',
    ],
    [
      'qualified: purchase, engagement 65',
      'ENGAGED',
      { inboundCount: 3, firstReplyHours: 1, openCount: 1, purchaseSignals: 1 },
      'qualified',
    ],
    ['qualified: the QUALIFIED state', 'QUALIFIED', {}, 'qualified'],
    ['handover-ready: READY_FOR_HANDOVER', 'READY_FOR_HANDOVER', { inboundCount: 1 }, 'handover_ready'],
    ['handover-ready: HANDED_OVER', 'HANDED_OVER', {}, 'handover_ready'],
  ])('stage rule: %s', (_n, state, counters, stage) => {
    expect(nextStage('cold', state, c(counters))).toBe(stage);
  });

  it.each<[string, JourneyStage, Partial<JourneyCounters>, string[], JourneyStage[]]>([
    ['nothing sent, nothing earned', 'cold', {}, [], []],
    ['FIRST_CONTACT once our first email is out, still cold', 'cold', { outboundCount: 1 }, [], ['cold']],
    ['FIRST_CONTACT only once', 'cold', { outboundCount: 2 }, ['FIRST_CONTACT'], []],
    ['a reply in the window', 'responding', { outboundCount: 1, inboundCount: 1 }, ['FIRST_CONTACT'], ['responding']],
    ['the lead wrote first: both on leaving cold', 'responding', { inboundCount: 1 }, [], ['cold', 'responding']],
    [
      'a skipped stage earns its milestone too',
      'interested',
      { outboundCount: 1 },
      ['FIRST_CONTACT'],
      ['responding', 'engaged', 'interested'],
    ],
  ])('milestones: %s', (_n, stage, counters, earned, due) => {
    expect(milestonesDue(stage, c(counters), earned)).toEqual(due);
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
