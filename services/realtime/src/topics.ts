/**
 * Which subscriptions a domain event reaches, under which client-facing name, and the entity
 * version a client dedupes on. Pure: no I/O. The gateway does not re-validate payloads (their
 * producers did, against the contracts); it reads only the ids it routes by, and an event without
 * them reaches only the topics it can name.
 */

/** The seed topics (003), plus `queue`; the per-entity ones are `conversation:`, `lead:`, `operator:`. */
export const BROAD_TOPICS = [
  'conversation_states',
  'lead_journeys',
  'message_threads',
  'handover_events',
  'email_events',
  'queue',
] as const;

const ENTITY_TOPIC = /^(conversation|lead):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPERATOR_TOPIC = /^operator:[\x21-\x7e]{1,200}$/;

/** Whether a client may subscribe to `topic`: a broad topic, or an entity topic with a well-formed id. */
export function isTopic(topic: string): boolean {
  return (BROAD_TOPICS as readonly string[]).includes(topic) || ENTITY_TOPIC.test(topic) || OPERATOR_TOPIC.test(topic);
}

export interface Routed {
  /** The client-facing event name (seed 003's where it names one). */
  event: string;
  /** Every topic whose subscribers get it. */
  topics: string[];
  /** The entity's version after the change, when the event carries one (else null). */
  version: number | null;
}

type Data = Record<string, unknown>;
const str = (d: Data, key: string): string | undefined => (typeof d[key] === 'string' ? (d[key] as string) : undefined);
const topic = (prefix: string, id: string | undefined) => (id ? [`${prefix}:${id}`] : []);

/** Delivery status rank (sent < failed < delivered < read): a message's version for clients. */
const STATUS_RANK: Record<string, number> = { sent: 1, failed: 2, delivered: 3, read: 4 };

type Rule = (d: Data) => { event: string; topics: string[] };

const conversation = (d: Data) => topic('conversation', str(d, 'conversationId'));
const isEmail = (d: Data) => (str(d, 'provider') === 'mailgun' ? ['email_events'] : []);
const chat = (event: string, d: Data) => ({
  event,
  topics: ['queue', ...topic('operator', str(d, 'operatorId')), ...topic('conversation', str(d, 'chatId'))],
});

/** Routing key → its subscriptions. An event absent here is not pushed (e.g. requests to downstream senders). */
const RULES: Record<string, Rule> = {
  'conversation.opened': (d) => ({ event: 'conversation_opened', topics: ['conversation_states', ...conversation(d)] }),
  // Seed 000: conversation and ticket status changes carry previousStatus and syncedFrom in data.
  'conversation.status.changed': (d) => ({
    event: 'conversation_state_changed',
    topics: ['conversation_states', ...conversation(d)],
  }),
  'ticket.status.changed': (d) => ({
    event: 'ticket_status_changed',
    topics: ['conversation_states', ...conversation(d)],
  }),
  'conversation.close.suggested': (d) => ({
    event: 'conversation_close_suggested',
    topics: ['conversation_states', ...conversation(d)],
  }),
  'conversation.transferred': (d) => ({
    event: 'conversation_transferred',
    topics: ['conversation_states', ...conversation(d)],
  }),
  // Seed 003: a lead's state move; one that asks for or makes a handover is a handover event.
  'conversation.state.changed': (d) => ({
    event: d.handover ? 'handover_event' : 'conversation_state_changed',
    topics: [
      'conversation_states',
      ...(d.handover ? ['handover_events'] : []),
      ...conversation(d),
      ...topic('lead', str(d, 'customerId')),
    ],
  }),
  'lead.stage.changed': (d) => ({
    event: 'lead_journey_updated',
    topics: ['lead_journeys', ...conversation(d), ...topic('lead', str(d, 'customerId'))],
  }),
  // A customer's message also puts the chat in the queue (seed 004), so `queue` hears of it.
  'message.received': (d) => ({
    event: 'message_thread_updated',
    topics: ['message_threads', 'queue', ...isEmail(d), ...conversation(d)],
  }),
  'message.sent': (d) => ({
    event: 'message_thread_updated',
    topics: ['message_threads', ...isEmail(d), ...conversation(d)],
  }),
  'message.status.changed': (d) => ({
    event: isEmail(d).length > 0 ? 'email_event' : 'message_status_changed',
    topics: ['message_threads', ...isEmail(d), ...conversation(d)],
  }),
  'chat.assigned': (d) => chat('chat_assigned', d),
  'chat.released': (d) => chat('chat_released', d),
  'chat.completed': (d) => chat('chat_completed', d),
};

/** The routing key of a domain event type: `switchboard.<routing key>.v1`. */
export function routingKeyOf(type: string): string | undefined {
  return /^switchboard\.(.+)\.v\d+$/.exec(type)?.[1];
}

/** Where an event goes; undefined for an event no client subscribes to. */
export function routeEvent(type: string, data: unknown): Routed | undefined {
  const key = routingKeyOf(type);
  const rule = key === undefined ? undefined : RULES[key];
  if (!rule || typeof data !== 'object' || data === null) return undefined;
  const d = data as Data;
  const { event, topics } = rule(d);
  const version =
    typeof d.version === 'number'
      ? d.version
      : key === 'message.status.changed'
        ? (STATUS_RANK[str(d, 'status') ?? ''] ?? null)
        : null;
  return { event, topics, version };
}
