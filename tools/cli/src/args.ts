import { InvalidArgumentError } from 'commander';
import { z } from 'zod';

// Argument parsers for commander: a bad value fails the parse (exit 2, one line) before any
// connection is opened, so e.g. a malformed id never reaches Drizzle or Postgres.

export function uuid(value: string): string {
  if (!z.uuid().safeParse(value).success) throw new InvalidArgumentError('not a UUID.');
  return value;
}

export const integer =
  (min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };

export function slug(value: string): string {
  if (!/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/.test(value)) {
    throw new InvalidArgumentError('lowercase letters, digits and dashes, 1 to 64 characters.');
  }
  return value;
}

export function timeZone(value: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return value;
  } catch {
    throw new InvalidArgumentError('not an IANA time zone (e.g. Europe/Berlin).');
  }
}

/** For repeatable options: `--id a --id b`. */
export const collect =
  <T>(parse: (v: string) => T) =>
  (value: string, previous: T[] | undefined) => [...(previous ?? []), parse(value)];
