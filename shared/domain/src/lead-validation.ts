import type { LeadState } from './lead.ts';

/**
 * The seven validation rules of a lead transition (seed 003). A `required` rule that fails
 * blocks the transition; a `warning` is reported with it. Pure: the caller passes `now` and the
 * tenant's time zone.
 */

export interface LeadFacts {
  outboundCount: number;
  inboundCount: number;
  engagementScore: number;
  qualificationScore: number;
  /** Reasons given for qualifying (a manual transition's stated criteria, detected signals). */
  qualificationSignals: readonly string[];
  agentId: string | null;
  now: Date;
  timeZone: string;
}

export type RuleName =
  | 'first_email_sent'
  | 'lead_reply'
  | 'qualification_criteria'
  | 'handover_readiness'
  | 'agent_assignment'
  | 'business_hours'
  | 'engagement_threshold';

export interface RuleResult {
  rule: RuleName;
  severity: 'required' | 'warning';
  passed: boolean;
  message: string;
}

/** Messages a conversation needs, both ways together, before a human takes it over. */
export const MIN_HANDOVER_DEPTH = 3;
/** Engagement below this when qualifying or handing over is worth a warning. */
export const ENGAGEMENT_WARNING_THRESHOLD = 40;
/** Business hours, Monday to Friday, in the tenant's time zone. */
export const BUSINESS_HOURS = { startHour: 9, endHour: 17 } as const;

/** Weekday (1 = Monday … 7 = Sunday) and hour of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): { weekday: number; hour: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: 'numeric', hourCycle: 'h23' })
    .formatToParts(at)
    .reduce<Record<string, string>>((acc, p) => {
      acc[p.type] = p.value;
      return acc;
    }, {});
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday ?? '') + 1;
  return { weekday, hour: Number(parts.hour) };
}

export function isBusinessHours(at: Date, timeZone: string): boolean {
  const { weekday, hour } = localTime(at, timeZone);
  return weekday >= 1 && weekday <= 5 && hour >= BUSINESS_HOURS.startHour && hour < BUSINESS_HOURS.endHour;
}

type Rule = {
  name: RuleName;
  severity: RuleResult['severity'];
  appliesTo: LeadState[];
  check: (f: LeadFacts) => string | null;
};

const RULES: Rule[] = [
  {
    name: 'first_email_sent',
    severity: 'required',
    appliesTo: ['ACTIVE'],
    check: (f) => (f.outboundCount >= 1 ? null : 'no outbound email was sent yet'),
  },
  {
    name: 'lead_reply',
    severity: 'required',
    appliesTo: ['ENGAGED'],
    check: (f) => (f.inboundCount >= 1 ? null : 'the lead has not written yet'),
  },
  {
    name: 'qualification_criteria',
    severity: 'required',
    appliesTo: ['QUALIFIED'],
    check: (f) =>
      f.qualificationSignals.length > 0 || f.qualificationScore > 0 ? null : 'no qualification signal was recorded',
  },
  {
    name: 'handover_readiness',
    severity: 'required',
    appliesTo: ['READY_FOR_HANDOVER'],
    check: (f) =>
      f.inboundCount + f.outboundCount >= MIN_HANDOVER_DEPTH
        ? null
        : `the conversation has ${f.inboundCount + f.outboundCount} messages; handover needs ${MIN_HANDOVER_DEPTH}`,
  },
  {
    name: 'agent_assignment',
    severity: 'required',
    appliesTo: ['HANDED_OVER'],
    check: (f) => (f.agentId ? null : 'no human agent is named'),
  },
  {
    name: 'business_hours',
    severity: 'warning',
    appliesTo: ['READY_FOR_HANDOVER', 'HANDED_OVER'],
    check: (f) => (isBusinessHours(f.now, f.timeZone) ? null : `outside business hours in ${f.timeZone}`),
  },
  {
    name: 'engagement_threshold',
    severity: 'warning',
    appliesTo: ['QUALIFIED', 'READY_FOR_HANDOVER'],
    check: (f) =>
      f.engagementScore >= ENGAGEMENT_WARNING_THRESHOLD
        ? null
        : `engagement score ${f.engagementScore} is below ${ENGAGEMENT_WARNING_THRESHOLD}`,
  },
];

/** Every rule that applies to entering `to`, passed or not. */
export function validateTransition(to: LeadState, facts: LeadFacts): RuleResult[] {
  return RULES.filter((r) => r.appliesTo.includes(to)).map((r) => {
    const problem = r.check(facts);
    return { rule: r.name, severity: r.severity, passed: problem === null, message: problem ?? 'ok' };
  });
}
