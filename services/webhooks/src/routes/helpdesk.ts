import {
  type CloudEvent,
  createEvent,
  eventId,
  type HelpdeskTicketChanged,
  helpdeskRoutingKeys,
  inboundType,
} from '@switchboard/contracts';
import { TICKET_STATUSES } from '@switchboard/domain';
import { parseRequest } from '@switchboard/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { boundedOccurredAt, verifySigned } from '../signed.ts';
import type { AppDeps } from './deps.ts';

/**
 * The helpdesk's webhook, one ticket event per request: `{ id, type, occurredAt, accountId, data }`.
 * `id` is the helpdesk's delivery id (a re-sent event keeps it); `accountId` the helpdesk instance
 * registered as a `helpdesk` channel; `data.conversationId` the Switchboard conversation.
 */
const ticket = {
  ticketId: z.string().min(1).max(200),
  conversationId: z.uuid(),
  changedBy: z.string().min(1).max(200).optional(),
  reason: z.string().max(1000).optional(),
  subject: z.string().max(1000).optional(),
  assignee: z.string().min(1).max(200).optional(),
};
const status = z.enum(TICKET_STATUSES);
const envelope = {
  id: z.string().min(1).max(200),
  occurredAt: z.iso.datetime({ offset: true }),
  accountId: z.string().min(1).max(200),
};

export const HelpdeskWebhook = z.discriminatedUnion('type', [
  z.object({
    ...envelope,
    type: z.literal('ticket.created'),
    data: z.object({ ...ticket, status: status.default('new') }),
  }),
  z.object({ ...envelope, type: z.literal('ticket.status_changed'), data: z.object({ ...ticket, status }) }),
  z.object({
    ...envelope,
    type: z.literal('ticket.assigned'),
    data: z.object({ ...ticket, assignee: z.string().min(1).max(200), status: status.optional() }),
  }),
]);
export type HelpdeskWebhook = z.infer<typeof HelpdeskWebhook>;

const actions = {
  'ticket.created': 'created',
  'ticket.status_changed': 'status_changed',
  'ticket.assigned': 'assigned',
} as const;

export function normalizeHelpdesk(w: HelpdeskWebhook): { routingKey: string; event: CloudEvent } {
  const data: HelpdeskTicketChanged = {
    provider: 'helpdesk',
    accountId: w.accountId,
    helpdeskEventId: w.id,
    at: w.occurredAt,
    action: actions[w.type],
    ...w.data,
  };
  const routingKey = helpdeskRoutingKeys.ticketChanged;
  return {
    routingKey,
    event: createEvent({
      id: eventId('helpdesk', w.accountId, w.id),
      source: '/switchboard/webhooks/helpdesk',
      type: inboundType(routingKey),
      time: new Date(w.occurredAt),
      subject: w.data.conversationId,
      data,
    }) as CloudEvent,
  };
}

export function registerHelpdesk(app: FastifyInstance, deps: AppDeps): void {
  const { config, metrics } = deps;
  app.post('/webhooks/helpdesk', { bodyLimit: config.helpdesk.bodyLimit }, async (req, reply) => {
    const { body, publishOnce } = await verifySigned(req, 'helpdesk', config.helpdesk.secret, deps.signed);
    const w = parseRequest(HelpdeskWebhook, body, 'body');
    const out = normalizeHelpdesk({ ...w, occurredAt: boundedOccurredAt(req, 'helpdesk', w.occurredAt, deps) });
    await publishOnce(deps.publish, [out]);
    metrics.normalized.inc({ provider: 'helpdesk', kind: out.routingKey });
    return reply.code(200).send({ status: 'accepted', id: out.event.id });
  });
}
