import { describe, expect, it } from 'vitest';
import { isTopic, routeEvent, routingKeyOf } from './topics.ts';

const conv = '5f2d8c1a-7a4b-4c1e-9a57-1c2d3e4f5a6b';
const cust = '0b8e9d7c-1111-4222-8333-444455556666';

describe('routeEvent', () => {
  it.each([
    [
      'conversation.status.changed',
      { conversationId: conv, version: 3 },
      'conversation_state_changed',
      ['conversation_states', `conversation:${conv}`],
      3,
    ],
    [
      'ticket.status.changed',
      { conversationId: conv, version: 2 },
      'ticket_status_changed',
      ['conversation_states', `conversation:${conv}`],
      2,
    ],
    [
      'message.received',
      { conversationId: conv, provider: 'whatsapp' },
      'message_thread_updated',
      ['message_threads', 'queue', `conversation:${conv}`],
      null,
    ],
    [
      'message.received',
      { conversationId: conv, provider: 'mailgun' },
      'message_thread_updated',
      ['message_threads', 'queue', 'email_events', `conversation:${conv}`],
      null,
    ],
    [
      'message.status.changed',
      { conversationId: conv, provider: 'whatsapp', status: 'read' },
      'message_status_changed',
      ['message_threads', `conversation:${conv}`],
      4,
    ],
    [
      'message.status.changed',
      { conversationId: conv, provider: 'mailgun', status: 'delivered' },
      'email_event',
      ['message_threads', 'email_events', `conversation:${conv}`],
      3,
    ],
    [
      'lead.stage.changed',
      { conversationId: conv, customerId: cust },
      'lead_journey_updated',
      ['lead_journeys', `conversation:${conv}`, `lead:${cust}`],
      null,
    ],
    [
      'conversation.state.changed',
      { conversationId: conv, customerId: cust, handover: { status: 'requested' } },
      'handover_event',
      ['conversation_states', 'handover_events', `conversation:${conv}`, `lead:${cust}`],
      null,
    ],
    [
      'chat.assigned',
      { chatId: conv, operatorId: 'op-ana' },
      'chat_assigned',
      ['queue', 'operator:op-ana', `conversation:${conv}`],
      null,
    ],
    ['chat.completed', { chatId: conv }, 'chat_completed', ['queue', `conversation:${conv}`], null],
  ])('%s → %s', (key, data, event, topics, version) => {
    expect(routeEvent(`switchboard.${key}.v1`, data)).toEqual({ event, topics, version });
  });

  it('pushes nothing for events no client subscribes to, or without data', () => {
    expect(routeEvent('switchboard.message.outbound.requested.v1', { conversationId: conv })).toBeUndefined();
    expect(routeEvent('switchboard.chat.assigned.v1', null)).toBeUndefined();
    expect(routeEvent('not-a-type', {})).toBeUndefined();
  });

  it('reaches only the broad topic when the entity id is missing', () => {
    expect(routeEvent('switchboard.conversation.status.changed.v1', { version: 1 })?.topics).toEqual([
      'conversation_states',
    ]);
  });
});

describe('isTopic', () => {
  it.each(['conversation_states', 'queue', `conversation:${conv}`, `lead:${cust}`, 'operator:op-ana'])(
    'accepts %s',
    (t) => expect(isTopic(t)).toBe(true),
  );
  it.each(['everything', 'conversation:42', 'conversation:*', 'operator:', 'lead:x y'])('refuses %s', (t) =>
    expect(isTopic(t)).toBe(false),
  );
});

it('routingKeyOf reads the routing key out of a versioned type', () => {
  expect(routingKeyOf('switchboard.ticket.status.changed.v1')).toBe('ticket.status.changed');
});
