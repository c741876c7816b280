import { JOURNEY_STAGES, LEAD_EVENTS, LEAD_STATES } from '@switchboard/domain';
import { z } from 'zod';

/** Domain events of the lead journey (seed 003), on `switchboard.events`; subject = conversation id. */

/** Who caused a lead transition: a provider fact (Mailgun, an inbound email) or a person through the API. */
export const LeadTrigger = z.object({
  kind: z.enum(['provider', 'api']),
  id: z.string(),
});
export type LeadTrigger = z.infer<typeof LeadTrigger>;

/** The lead state of an email conversation moved (NEW → ACTIVE → … → ARCHIVED). */
export const ConversationStateChanged = z.object({
  conversationId: z.uuid(),
  customerId: z.uuid(),
  previousState: z.enum(LEAD_STATES),
  state: z.enum(LEAD_STATES),
  event: z.enum(LEAD_EVENTS),
  triggeredBy: LeadTrigger,
  /** Warning rules that did not pass (business hours, engagement threshold); the move happened anyway. */
  warnings: z.array(z.object({ rule: z.string(), message: z.string() })),
  /** Set when the move asks for or makes a handover to a human agent. */
  handover: z
    .object({
      status: z.enum(['requested', 'assigned']),
      agentId: z.string().optional(),
    })
    .optional(),
  /** The requester's context of an API transition (seed 003: e.g. `qualificationReason`), as sent. */
  metadata: z.record(z.string(), z.unknown()).optional(),
  at: z.iso.datetime({ offset: true }),
});
export type ConversationStateChanged = z.infer<typeof ConversationStateChanged>;

/** The lead reached a further journey stage (cold → responding → … → handover_ready). */
export const LeadStageChanged = z.object({
  conversationId: z.uuid(),
  customerId: z.uuid(),
  previousStage: z.enum(JOURNEY_STAGES),
  stage: z.enum(JOURNEY_STAGES),
  progress: z.number().int().min(0).max(100),
  engagementScore: z.number().int().min(0).max(100),
  qualificationScore: z.number().int().min(0).max(100),
  /** Milestones earned by this move, one per stage passed. */
  milestones: z.array(z.string()),
  at: z.iso.datetime({ offset: true }),
});
export type LeadStageChanged = z.infer<typeof LeadStageChanged>;
