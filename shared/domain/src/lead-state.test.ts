import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LEAD_EVENTS, LEAD_STATES, type LeadEvent, type LeadState } from './lead.ts';
import { absorbs, decideLead, LEAD_TRANSITIONS } from './lead-state.ts';
import { isBusinessHours, type LeadFacts, validateTransition } from './lead-validation.ts';

// Monday 2026-11-23 10:00 UTC: business hours in UTC, 05:00 in New York.
const monday10 = new Date('2026-11-23T10:00:00Z');
const ready: LeadFacts = {
  outboundCount: 2,
  inboundCount: 3,
  engagementScore: 70,
  qualificationScore: 50,
  qualificationSignals: ['asked for pricing'],
  agentId: 'agent-7',
  now: monday10,
  timeZone: 'UTC',
};

describe('decideLead: the transition table', () => {
  it.each<[LeadState, LeadEvent, LeadState]>([
    ['NEW', 'FIRST_EMAIL_SENT', 'ACTIVE'],
    ['NEW', 'LEAD_REPLIED', 'ENGAGED'],
    ['ACTIVE', 'LEAD_REPLIED', 'ENGAGED'],
    ['ENGAGED', 'QUALIFICATION_CRITERIA_MET', 'QUALIFIED'],
    ['QUALIFIED', 'HANDOVER_REQUESTED', 'READY_FOR_HANDOVER'],
    ['READY_FOR_HANDOVER', 'HUMAN_AGENT_ASSIGNED', 'HANDED_OVER'],
    ['HANDED_OVER', 'CONVERSATION_COMPLETED', 'CLOSED'],
    ['ACTIVE', 'CONVERSATION_ABANDONED', 'CLOSED'],
    ['QUALIFIED', 'CONVERSATION_ABANDONED', 'CLOSED'],
    ['CLOSED', 'MANUAL_ARCHIVE', 'ARCHIVED'],
  ])('%s + %s → %s', (from, event, to) => {
    expect(decideLead(from, event, ready)).toMatchObject({ kind: 'apply', from, to, changed: true });
  });

  it.each<[LeadState, LeadEvent]>([
    ['ACTIVE', 'ENGAGEMENT_INCREASED'],
    ['ENGAGED', 'LEAD_REPLIED'],
    ['HANDED_OVER', 'FIRST_EMAIL_SENT'],
    ['NEW', 'ENGAGEMENT_INCREASED'],
  ])('%s absorbs %s (no move, still counted)', (from, event) => {
    expect(decideLead(from, event, ready)).toMatchObject({ kind: 'apply', to: from, changed: false });
  });

  it.each<[LeadState, LeadEvent]>([
    ['NEW', 'HANDOVER_REQUESTED'],
    ['ACTIVE', 'QUALIFICATION_CRITERIA_MET'],
    ['ENGAGED', 'HUMAN_AGENT_ASSIGNED'],
    ['QUALIFIED', 'MANUAL_ARCHIVE'],
    ['ARCHIVED', 'MANUAL_ARCHIVE'],
    ['CLOSED', 'CONVERSATION_ABANDONED'],
    ['NEW', 'CONVERSATION_COMPLETED'],
  ])('%s + %s is illegal', (from, event) => {
    expect(decideLead(from, event, ready)).toMatchObject({ kind: 'reject', reason: 'illegal_transition' });
  });

  it.each<[LeadState, LeadEvent]>([
    ['CLOSED', 'ENGAGEMENT_INCREASED'],
    ['ARCHIVED', 'LEAD_REPLIED'],
    ['CLOSED', 'FIRST_EMAIL_SENT'],
  ])('%s ignores the provider fact %s', (from, event) => {
    expect(decideLead(from, event, ready)).toEqual({ kind: 'ignore', reason: 'terminal' });
  });
});

describe('validation rules', () => {
  it.each<[string, LeadState, LeadEvent, Partial<LeadFacts>, string]>([
    ['first email', 'NEW', 'FIRST_EMAIL_SENT', { outboundCount: 0 }, 'first_email_sent'],
    ['lead reply', 'ACTIVE', 'LEAD_REPLIED', { inboundCount: 0 }, 'lead_reply'],
    [
      'qualification',
      'ENGAGED',
      'QUALIFICATION_CRITERIA_MET',
      { qualificationSignals: [], qualificationScore: 0 },
      'qualification_criteria',
    ],
    ['depth', 'QUALIFIED', 'HANDOVER_REQUESTED', { inboundCount: 1, outboundCount: 1 }, 'handover_readiness'],
    ['agent', 'READY_FOR_HANDOVER', 'HUMAN_AGENT_ASSIGNED', { agentId: null }, 'agent_assignment'],
  ])('required rule %s blocks the move', (_n, from, event, facts, rule) => {
    const d = decideLead(from, event, { ...ready, ...facts });
    expect(d).toMatchObject({ kind: 'reject', reason: 'validation_failed' });
    expect(d.kind === 'reject' && d.reason === 'validation_failed' && d.failures.map((f) => f.rule)).toEqual([rule]);
  });

  it.each<[string, LeadState, LeadEvent, Partial<LeadFacts>, string[]]>([
    [
      'off-hours handover (tenant time zone)',
      'QUALIFIED',
      'HANDOVER_REQUESTED',
      { timeZone: 'America/New_York' },
      ['business_hours'],
    ],
    [
      'weekend assignment',
      'READY_FOR_HANDOVER',
      'HUMAN_AGENT_ASSIGNED',
      { now: new Date('2026-11-22T12:00:00Z') },
      ['business_hours'],
    ],
    ['low engagement', 'ENGAGED', 'QUALIFICATION_CRITERIA_MET', { engagementScore: 10 }, ['engagement_threshold']],
    ['nothing to warn', 'QUALIFIED', 'HANDOVER_REQUESTED', {}, []],
  ])('warning: %s', (_n, from, event, facts, rules) => {
    const d = decideLead(from, event, { ...ready, ...facts });
    expect(d.kind).toBe('apply');
    expect(d.kind === 'apply' && d.warnings.map((w) => w.rule)).toEqual(rules);
  });

  it('reports every rule that applies, passed or not', () => {
    expect(validateTransition('READY_FOR_HANDOVER', ready).map((r) => [r.rule, r.severity, r.passed])).toEqual([
      ['handover_readiness', 'required', true],
      ['business_hours', 'warning', true],
      ['engagement_threshold', 'warning', true],
    ]);
  });

  it.each([
    ['2026-11-23T08:59:00Z', 'UTC', false],
    ['2026-11-23T09:00:00Z', 'UTC', true],
    ['2026-11-23T16:59:00Z', 'UTC', true],
    ['2026-11-23T17:00:00Z', 'UTC', false],
    ['2026-11-23T14:30:00Z', 'America/New_York', true],
    ['2026-11-23T23:30:00Z', 'Asia/Tokyo', false],
    ['2026-11-24T00:30:00Z', 'Asia/Tokyo', true],
  ])('business hours at %s in %s: %s', (at, tz, expected) => {
    expect(isBusinessHours(new Date(at), tz)).toBe(expected);
  });
});

describe('property: no sequence of events reaches a state the table forbids', () => {
  const allowed = new Map<LeadState, Set<LeadState>>(
    LEAD_STATES.map((s) => [s, new Set([s, ...Object.values(LEAD_TRANSITIONS[s])])]),
  );
  const arbFacts = fc.record({
    outboundCount: fc.nat(5),
    inboundCount: fc.nat(5),
    engagementScore: fc.nat(100),
    qualificationScore: fc.nat(100),
    qualificationSignals: fc.array(fc.string(), { maxLength: 2 }),
    agentId: fc.option(fc.string({ minLength: 1 })),
    now: fc.date({ min: new Date('2026-01-01'), max: new Date('2027-01-01'), noInvalidDate: true }),
    timeZone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'),
  });

  it('every step is a table move or stays put, and ARCHIVED is final', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...LEAD_EVENTS), arbFacts), { maxLength: 40 }), (steps) => {
        let state: LeadState = 'NEW';
        for (const [event, facts] of steps) {
          const d = decideLead(state, event, facts);
          const next: LeadState = d.kind === 'apply' ? d.to : state;
          expect(allowed.get(state)?.has(next)).toBe(true);
          if (d.kind === 'apply' && !d.changed) expect(absorbs(state, event)).toBe(true);
          if (state === 'ARCHIVED') expect(next).toBe('ARCHIVED');
          state = next;
        }
      }),
      { numRuns: 500 },
    );
  });
});
