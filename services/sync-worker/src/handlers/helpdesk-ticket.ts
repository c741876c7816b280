import { randomUUID } from 'node:crypto';
import { HelpdeskTicketChanged } from '@switchboard/contracts';
import { boundSenderTime, type TicketStatus } from '@switchboard/domain';
import { type LockedTicket, setTicketAssignee } from '../store/status-sync.ts';
import { type Applied, route } from './route.ts';
import {
  applySyncRequest,
  type ConversationScope,
  conversationLock,
  prepareConversationRequest,
  type SyncCommand,
} from './status-sync-request.ts';

type Ticket = HelpdeskTicketChanged;

/** A helpdesk ticket's change: its status synced with its conversation's (and its other tickets'). */
export const helpdeskTicketRoute = route<Ticket, ConversationScope>({
  schema: HelpdeskTicketChanged,
  prepare: prepareConversationRequest('helpdesk'),
  lockKeys: conversationLock,
  async apply(tx, deps, items) {
    const out: Applied[] = [];
    for (const { event, value } of items) {
      // Its time decides what is stale: never later than our clock allows (see boundSenderTime).
      const e = { ...event.data, at: boundSenderTime(event.data.at, deps.now()).at };
      const tenantId = value.channel.tenantId;
      const assignee = e.assignee;
      out.push(
        await applySyncRequest(tx, deps, event, tenantId, {
          entity: 'ticket',
          conversationId: e.conversationId,
          ticketExternalId: e.ticketId,
          changedBy: e.changedBy ?? assignee,
          command: (tickets) => ticketCommand(e, tickets),
          after: assignee
            ? async (tx2) => {
                await setTicketAssignee(tx2, tenantId, e.ticketId, assignee);
                return undefined;
              }
            : undefined,
        }),
      );
    }
    return out;
  },
});

/** Helpdesk event → command. `assigned` owns a new ticket (new → open) and leaves others as they are. */
function ticketCommand(e: Ticket, tickets: LockedTicket[]): SyncCommand {
  const existing = tickets.find((t) => t.externalId === e.ticketId);
  // Deliveries can overtake each other (retries, parallel batches): a change older than the one
  // the ticket already shows is stale, so the status never moves back in time.
  if (existing && e.action !== 'created' && new Date(e.at) < existing.updatedAt) {
    return { stale: `stale: ticket ${e.ticketId} changed after ${e.at}` };
  }
  const status = ticketStatusOf(e, existing);
  if (!status) return { reject: `invalid_request: ${e.action} needs a status` };
  const id = existing?.id ?? randomUUID();
  return {
    cmd: {
      kind: 'ticket',
      ticketId: id,
      action: e.action === 'created' ? 'created' : 'status',
      status,
      source: 'helpdesk',
      reason: e.reason ?? (e.action === 'assigned' ? `assigned to ${e.assignee ?? 'someone'}` : undefined),
    },
    ...(existing ? {} : { created: { id, externalId: e.ticketId, assignee: e.assignee, subject: e.subject } }),
  };
}

/** The status the event asks for; an assignment opens a new ticket and leaves a worked one as it is. */
function ticketStatusOf(e: Ticket, existing: LockedTicket | undefined): TicketStatus | undefined {
  if (e.action !== 'assigned') return e.status;
  if (!existing) return e.status ?? 'open';
  return existing.status === 'new' ? 'open' : existing.status;
}
