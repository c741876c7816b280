import {
  agentDeskRoutingKeys,
  type DomainEventKey,
  domainEventType,
  genesysRoutingKeys,
  helpdeskRoutingKeys,
  inboundRoutingKeys,
  inboundType,
  mailgunRoutingKeys,
} from '@switchboard/contracts';
import { agentDeskConversationRoute } from './agent-desk-conversation.ts';
import { chatAssignedRoute, chatCompletedRoute, chatReleasedRoute } from './chat-assignment.ts';
import { helpdeskTicketRoute } from './helpdesk-ticket.ts';
import { mailgunEmailRoute } from './mailgun-email.ts';
import { mailgunEventRoute } from './mailgun-event.ts';
import { agentDeskReplyRoute, genesysAgentMessageRoute, genesysReceiptRoute } from './outbound.ts';
import type { Route } from './route.ts';
import { whatsappAccountRoute } from './whatsapp-account.ts';
import { whatsappEchoRoute, whatsappHistoryRoute } from './whatsapp-business-messages.ts';
import { whatsappCallRoute } from './whatsapp-call.ts';
import { whatsappDeliveryStatusRoute } from './whatsapp-delivery-status.ts';
import { whatsappMessageRoute } from './whatsapp-message.ts';

/**
 * The sync-worker's routing table: routing key → route. A test checks these keys against the
 * bindings of `sync-worker.inbound`. The order is the order routes apply within one batch:
 * messages before statuses, so a status finds a message stored in the same batch; echoes (business
 * messages) before statuses too, for the same reason.
 */
export const routes: Record<string, Route> = {
  [inboundRoutingKeys.whatsappMessage]: whatsappMessageRoute,
  [inboundRoutingKeys.whatsappEcho]: whatsappEchoRoute,
  [inboundRoutingKeys.whatsappStatus]: whatsappDeliveryStatusRoute,
  [inboundRoutingKeys.whatsappCall]: whatsappCallRoute,
  [inboundRoutingKeys.whatsappHistory]: whatsappHistoryRoute,
  [inboundRoutingKeys.whatsappAccount]: whatsappAccountRoute,
  [mailgunRoutingKeys.email]: mailgunEmailRoute,
  [mailgunRoutingKeys.event]: mailgunEventRoute,
  [agentDeskRoutingKeys.conversationRequested]: agentDeskConversationRoute,
  [helpdeskRoutingKeys.ticketChanged]: helpdeskTicketRoute,
  [agentDeskRoutingKeys.operatorReplied]: agentDeskReplyRoute,
  [genesysRoutingKeys.agentMessage]: genesysAgentMessageRoute,
  [genesysRoutingKeys.receipt]: genesysReceiptRoute,
  // The chat queue's decisions, from switchboard.events (domain events, not inbound ones).
  'chat.assigned': chatAssignedRoute,
  'chat.released': chatReleasedRoute,
  'chat.completed': chatCompletedRoute,
};

/** The keys above that are domain events on switchboard.events; the rest are inbound. */
export const domainEventKeys = new Set<DomainEventKey>(['chat.assigned', 'chat.released', 'chat.completed']);
const isDomainKey = (key: string): key is DomainEventKey => domainEventKeys.has(key as DomainEventKey);

/** CloudEvents type → route, for the dispatcher. */
export const routesByType = new Map(
  Object.entries(routes).map(([key, r]) => [isDomainKey(key) ? domainEventType(key) : inboundType(key), r]),
);
