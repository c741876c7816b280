import { inboundEvents } from '@switchboard/contracts';
import {
  accountChanges,
  BSUID,
  BSUID_NEXT,
  callEvent,
  historyChunk,
  IDENTITY_SOURCES,
  messageEcho,
  PARENT_BSUID,
  USERNAME,
  userChangedUserId,
  usernameOnlyText,
  WABA_ID,
  whatsappChange,
} from '@switchboard/testing';
import { describe, expect, it } from 'vitest';
import { normalizeWhatsApp } from './whatsapp.ts';

/**
 * One fixture per 2026 WhatsApp shape (sources recorded in whatsapp-identity-fixtures.ts, e.g.
 * Meta's system messages reference, IDENTITY_SOURCES.system): each normalizes to the event the
 * worker consumes, which its contract schema accepts, and nothing is parked.
 */
const normalized = (body: unknown) => {
  const out = normalizeWhatsApp(body, new Date('2026-06-01T00:00:00Z'));
  for (const { routingKey, event } of out.events) {
    const schema = inboundEvents[routingKey as keyof typeof inboundEvents];
    expect(schema.safeParse(event.data).success, `${routingKey} matches its contract`).toBe(true);
  }
  return out;
};

describe('WhatsApp identities, echoes, history, calls and account fields at the edge', () => {
  it(`a username-only user's text: no phone, their user id, parent id and username (${IDENTITY_SOURCES.bsuid})`, () => {
    const out = normalized(whatsappChange('messages', usernameOnlyText('wamid.u1', 'hi')));
    expect(out.parked).toEqual([]);
    expect(out.events).toHaveLength(1);
    const data = out.events[0]?.event.data as Record<string, unknown>;
    expect(data).toMatchObject({
      fromUserId: BSUID,
      fromParentUserId: PARENT_BSUID,
      username: USERNAME,
      profileName: 'Kerry Fisher',
      businessAccountId: WABA_ID,
      text: 'hi',
    });
    expect(data.from).toBeUndefined();
  });

  it(`user_changed_user_id batched with a message: both published, the notice with both ids (${IDENTITY_SOURCES.system})`, () => {
    const value = usernameOnlyText('wamid.u2', 'new id here', BSUID_NEXT);
    const body = whatsappChange('messages', {
      ...value,
      messages: [userChangedUserId('wamid.sys1'), ...value.messages],
    });
    const out = normalized(body);
    expect(out.parked).toEqual([]);
    expect(out.events.map((e) => e.routingKey)).toEqual(['whatsapp.message.received', 'whatsapp.message.received']);
    expect(out.events[0]?.event.data).toMatchObject({
      type: 'system',
      system: { type: 'user_changed_user_id', previousUserId: BSUID, userId: BSUID_NEXT },
    });
    expect(out.events[1]?.event.data).toMatchObject({ fromUserId: BSUID_NEXT });
  });

  it(`a message echo: the business app's message to the customer, by user id (${IDENTITY_SOURCES.echoes})`, () => {
    const out = normalized(whatsappChange('smb_message_echoes', messageEcho('wamid.echo1', 'on my way')));
    expect(out.parked).toEqual([]);
    expect(out.events.map((e) => e.routingKey)).toEqual(['whatsapp.echo.received']);
    expect(out.events[0]?.event.data).toMatchObject({ toUserId: BSUID, from: '15550783881', text: 'on my way' });
  });

  it(`history: one event per message, inbound or outbound by the thread's customer (${IDENTITY_SOURCES.history})`, () => {
    const out = normalized(whatsappChange('history', historyChunk('16315551190')));
    expect(out.parked).toEqual([]);
    expect(out.events.map((e) => [e.routingKey, (e.event.data as { direction: string }).direction])).toEqual([
      ['whatsapp.history.received', 'inbound'],
      ['whatsapp.history.received', 'outbound'],
    ]);
    expect(out.events[1]?.event.data).toMatchObject({ to: '16315551190', historyStatus: 'DELIVERED', phase: 0 });
  });

  it(`calls: connect and terminate, the caller as customer (${IDENTITY_SOURCES.calls})`, () => {
    const connect = normalized(whatsappChange('calls', callEvent('connect')));
    const terminate = normalized(whatsappChange('calls', callEvent('terminate')));
    expect([...connect.parked, ...terminate.parked]).toEqual([]);
    expect(connect.events[0]?.routingKey).toBe('whatsapp.call.updated');
    expect(terminate.events[0]?.event.data).toMatchObject({
      event: 'terminate',
      customer: { userId: BSUID, username: USERNAME },
      status: 'COMPLETED',
      durationSeconds: 33,
    });
    expect(connect.events[0]?.event.id).not.toBe(terminate.events[0]?.event.id);
  });

  it.each(Object.entries(accountChanges))(
    `account field %s: its own event, not parked (${IDENTITY_SOURCES.account})`,
    (field, value) => {
      const body = whatsappChange(field, value, { metadata: false });
      const out = normalized(body);
      expect(out.parked).toEqual([]);
      expect(out.events.map((e) => e.routingKey)).toEqual(['whatsapp.account.updated']);
      expect(out.events[0]?.event.data).toMatchObject({ field, businessAccountId: WABA_ID, value });
      // The same notification re-sent gets the same id: the inbox drops the copy.
      expect(normalized(body).events[0]?.event.id).toBe(out.events[0]?.event.id);
    },
  );

  it('a message that names no sender at all is parked, its neighbours kept', () => {
    const value = usernameOnlyText('wamid.u3', 'kept');
    const body = whatsappChange('messages', {
      ...value,
      messages: [{ id: 'wamid.nobody', timestamp: '1780000000', type: 'text', text: { body: 'x' } }, ...value.messages],
    });
    const out = normalized(body);
    expect(out.events).toHaveLength(1);
    expect(out.parked[0]?.reason).toMatch(/names no sender/);
  });
});
