import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './lookup.ts';

const id = '0b6f7c52-3a53-4f5e-9a39-6f2f0a6b7d10';
const cursor = (at: string, uuid = id) => Buffer.from(`${at}|${uuid}`).toString('base64url');

/** A cursor is client input: only what Postgres can cast may reach the query (else a 500). */
describe('decodeCursor', () => {
  it.each(['2026-12-07 09:20:40.123456+00', '2026-02-28 23:59:59+05:30', '2024-02-29 00:00:00-03'])(
    'takes the text Postgres writes: %s',
    (at) => {
      expect(decodeCursor(encodeCursor({ at, id }))).toEqual({ at, id });
    },
  );

  it.each([
    ['a 10-digit timestamp', '1700000000'],
    ['month 13', '2026-13-01 00:00:00+00'],
    ['day 32', '2026-01-32 00:00:00+00'],
    ['Feb 30', '2026-02-30 00:00:00+00'],
    ['hour 24', '2026-01-01 24:00:00+00'],
    ['minute 60', '2026-01-01 00:60:00+00'],
    ['year 0', '0000-01-01 00:00:00+00'],
    ['offset 16 h', '2026-01-01 00:00:00+16'],
    ['no offset', '2026-01-01 00:00:00'],
    ['digits and signs', '----------'],
  ])('refuses %s', (_what, at) => {
    expect(decodeCursor(cursor(at))).toBeNull();
  });

  it('refuses an id Postgres cannot cast to uuid', () => {
    expect(decodeCursor(cursor('2026-12-07 09:20:40+00', '------------------------------------'))).toBeNull();
  });
});
