import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventId } from './event-id.ts';

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
});
