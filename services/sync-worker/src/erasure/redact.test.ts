import { describe, expect, it } from 'vitest';
import { ERASED, redactEnvelope } from './redact.ts';

describe('redactEnvelope', () => {
  const envelope = {
    id: 'e1',
    type: 'switchboard.message.received.v1',
    data: {
      from: '15551234567',
      text: 'hello from Ada',
      type: 'text',
      nested: [{ note: 'ok' }, { name: 'Ada Lovelace' }],
    },
  };

  it('replaces the strings of data that are or contain personal data, and keeps the rest', () => {
    const r = redactEnvelope(envelope, ['15551234567', 'Ada Lovelace', 'hello from Ada', 'ok']);
    expect(r.changed).toBe(true);
    expect(r.value).toEqual({
      id: 'e1',
      type: 'switchboard.message.received.v1',
      data: { from: ERASED, text: ERASED, type: 'text', nested: [{ note: ERASED }, { name: ERASED }] },
    });
  });

  it('replaces a short text only where a value equals it', () => {
    const r = redactEnvelope({ data: { a: 'ok', b: 'look' } }, ['ok']);
    expect(r.value).toEqual({ data: { a: ERASED, b: 'look' } });
  });

  it('says nothing changed when nothing matched', () => {
    expect(redactEnvelope(envelope, ['someone else']).changed).toBe(false);
  });
});
