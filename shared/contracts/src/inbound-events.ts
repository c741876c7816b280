import type { z } from 'zod';
import { inboundRoutingKeys, WhatsAppMessageReceived, WhatsAppStatusUpdated } from './inbound.ts';
import {
  AgentDeskConversationRequested,
  AgentDeskOperatorReplied,
  AgentDeskOperatorStatusChanged,
  agentDeskRoutingKeys,
} from './inbound-agent-desk.ts';
import { GenesysAgentMessage, GenesysReceipt, genesysRoutingKeys } from './inbound-genesys.ts';
import { HelpdeskTicketChanged, helpdeskRoutingKeys } from './inbound-helpdesk.ts';
import { MailgunEmailReceived, MailgunEventReceived, mailgunRoutingKeys } from './inbound-mailgun.ts';
import {
  WhatsAppAccountUpdated,
  WhatsAppCallUpdated,
  WhatsAppHistoryMessage,
  WhatsAppMessageEchoed,
} from './inbound-whatsapp-business.ts';

/**
 * Every canonical inbound event on `switchboard.inbound`, by routing key: what the edges publish
 * and what consumers parse. asyncapi.yaml documents exactly these (a test holds them together).
 * Parked payloads are not here: they go to `parked.<provider>` with `ParkedPayload`.
 */
export const inboundEvents = {
  [inboundRoutingKeys.whatsappMessage]: WhatsAppMessageReceived,
  [inboundRoutingKeys.whatsappStatus]: WhatsAppStatusUpdated,
  [inboundRoutingKeys.whatsappEcho]: WhatsAppMessageEchoed,
  [inboundRoutingKeys.whatsappHistory]: WhatsAppHistoryMessage,
  [inboundRoutingKeys.whatsappCall]: WhatsAppCallUpdated,
  [inboundRoutingKeys.whatsappAccount]: WhatsAppAccountUpdated,
  [agentDeskRoutingKeys.conversationRequested]: AgentDeskConversationRequested,
  [agentDeskRoutingKeys.operatorStatus]: AgentDeskOperatorStatusChanged,
  [agentDeskRoutingKeys.operatorReplied]: AgentDeskOperatorReplied,
  [mailgunRoutingKeys.email]: MailgunEmailReceived,
  [mailgunRoutingKeys.event]: MailgunEventReceived,
  [helpdeskRoutingKeys.ticketChanged]: HelpdeskTicketChanged,
  [genesysRoutingKeys.agentMessage]: GenesysAgentMessage,
  [genesysRoutingKeys.receipt]: GenesysReceipt,
} as const satisfies Record<string, z.ZodType>;
export type InboundRoutingKey = keyof typeof inboundEvents;
