import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorCodeParts, eventId } from './event-id.ts';

describe('eventId', () => {
  it('is a stable, valid UUID for the same parts', () => {
    const a = eventId('whatsapp', 'message', 'wamid.1');
    expect(a).toBe(eventId('whatsapp', 'message', 'wamid.1'));
    expect(z.uuid().safeParse(a).success).toBe(true);
  });

  it('differs when any part differs, including how parts are split', () => {
    expect(eventId('whatsapp', 'message', 'wamid.1')).not.toBe(eventId('whatsapp', 'message', 'wamid.2'));
    expect(eventId('ab', 'c')).not.toBe(eventId('a', 'bc'));
  });

  it('keys a failure by its distinct error codes, whatever their order, and a success by nothing', () => {
    expect(errorCodeParts(undefined)).toEqual([]);
    expect(errorCodeParts([{ code: 131026 }, { code: '131000' }, { code: 131026 }])).toEqual(['131000', '131026']);
    const id = (codes: number[]) =>
      eventId('whatsapp', 'status', 'wamid.1', 'failed', ...errorCodeParts(codes.map((code) => ({ code }))));
    expect(id([131000, 131026])).toBe(id([131026, 131000]));
    expect(id([131000])).not.toBe(id([131026]));
    expect(id([])).toBe(eventId('whatsapp', 'status', 'wamid.1', 'failed'));
  });
});
