import {
  inboundRoutingKeys,
  inboundType,
  WhatsAppMessageReceived,
  WhatsAppStatusUpdated,
} from '@switchboard/contracts';
import { type Route, route } from './route.ts';
import { handleWhatsAppMessage } from './whatsapp-message.ts';
import { handleWhatsAppStatus } from './whatsapp-status.ts';

/**
 * The sync-worker's routing table: CloudEvents type → payload schema and handler. Keyed by
 * routing key; a test checks these keys against the bindings of `sync-worker.inbound`.
 */
export const routes: Record<string, Route> = {
  [inboundRoutingKeys.whatsappMessage]: route(WhatsAppMessageReceived, handleWhatsAppMessage),
  [inboundRoutingKeys.whatsappStatus]: route(WhatsAppStatusUpdated, handleWhatsAppStatus),
};

export const routesByType = new Map(Object.entries(routes).map(([key, r]) => [inboundType(key), r]));
