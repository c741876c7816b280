import {
  type AgentDeskConversationRequested,
  type AgentDeskOperatorReplied,
  type AgentDeskOperatorStatusChanged,
  agentDeskRoutingKeys,
  type CloudEvent,
  createEvent,
  eventId,
  inboundType,
} from '@switchboard/contracts';
import { OPERATOR_STATUSES } from '@switchboard/domain';
import { parseRequest } from '@switchboard/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { boundedOccurredAt, verifySigned } from '../signed.ts';
import type { AppDeps } from './deps.ts';

/**
 * The agent desk's webhook, one event per request:
 * `{ id, type, occurredAt, accountId, data }`. `id` is the desk's delivery id (a re-sent event
 * keeps it), `accountId` the desk installation registered as an `agent_desk` channel.
 */
const operatorId = z.string().min(1).max(200);
const conversation = z.object({ conversationId: z.uuid(), operatorId, reason: z.string().max(1000).optional() });
const envelope = {
  id: z.string().min(1).max(200),
  occurredAt: z.iso.datetime({ offset: true }),
  accountId: z.string().min(1).max(200),
};

export const AgentDeskWebhook = z.discriminatedUnion('type', [
  z.object({ ...envelope, type: z.literal('conversation.assign_requested'), data: conversation }),
  z.object({ ...envelope, type: z.literal('conversation.release_requested'), data: conversation }),
  z.object({ ...envelope, type: z.literal('conversation.close_requested'), data: conversation }),
  z.object({
    ...envelope,
    type: z.literal('operator.status_changed'),
    data: z.object({
      operatorId,
      status: z.enum(OPERATOR_STATUSES),
      capacity: z.number().int().min(0).max(1000).optional(),
      skills: z.array(z.string().min(1).max(100)).max(50).optional(),
      displayName: z.string().max(200).optional(),
    }),
  }),
  z.object({
    ...envelope,
    type: z.literal('operator.replied'),
    data: z.object({
      conversationId: z.uuid(),
      operatorId,
      messageId: z.string().min(1).max(500),
      text: z.string().max(65_536),
    }),
  }),
]);
export type AgentDeskWebhook = z.infer<typeof AgentDeskWebhook>;

const SOURCE = '/switchboard/webhooks/agent-desk';
const actions = {
  'conversation.assign_requested': 'assign',
  'conversation.release_requested': 'release',
  'conversation.close_requested': 'close',
} as const;

/** The desk's wire format → one canonical inbound event, its id derived from the desk's id. */
export function normalizeAgentDesk(w: AgentDeskWebhook): { routingKey: string; event: CloudEvent } {
  const base = { provider: 'agent_desk' as const, accountId: w.accountId, deskEventId: w.id, at: w.occurredAt };
  const event = <T>(routingKey: string, subject: string, data: T) => ({
    routingKey,
    event: createEvent({
      id: eventId('agent_desk', w.accountId, w.id),
      source: SOURCE,
      type: inboundType(routingKey),
      time: new Date(w.occurredAt),
      subject,
      data,
    }) as CloudEvent,
  });
  switch (w.type) {
    case 'conversation.assign_requested':
    case 'conversation.release_requested':
    case 'conversation.close_requested':
      return event(agentDeskRoutingKeys.conversationRequested, w.data.conversationId, {
        ...base,
        action: actions[w.type],
        ...w.data,
      } satisfies AgentDeskConversationRequested);
    case 'operator.status_changed':
      return event(agentDeskRoutingKeys.operatorStatus, w.data.operatorId, {
        ...base,
        ...w.data,
      } satisfies AgentDeskOperatorStatusChanged);
    case 'operator.replied':
      return event(agentDeskRoutingKeys.operatorReplied, w.data.conversationId, {
        ...base,
        ...w.data,
      } satisfies AgentDeskOperatorReplied);
  }
}

export function registerAgentDesk(app: FastifyInstance, deps: AppDeps): void {
  const { config, metrics } = deps;
  app.post('/webhooks/agent-desk', { bodyLimit: config.agentDesk.bodyLimit }, async (req, reply) => {
    const { body, publishOnce } = await verifySigned(req, 'agent_desk', config.agentDesk.secret, deps.signed);
    const w = parseRequest(AgentDeskWebhook, body, 'body');
    const out = normalizeAgentDesk({ ...w, occurredAt: boundedOccurredAt(req, 'agent_desk', w.occurredAt, deps) });
    await publishOnce(deps.publish, [out]);
    metrics.normalized.inc({ provider: 'agent_desk', kind: out.routingKey });
    return reply.code(200).send({ status: 'accepted', id: out.event.id });
  });
}
