import { describe, expect, it } from 'vitest';
import { isUnreachable } from './outage.ts';

const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isUnreachable', () => {
  it.each([
    ['connection refused', coded('ECONNREFUSED')],
    ['Postgres shutting down', coded('57P01', 'terminating connection due to administrator command')],
    ['Postgres starting up', coded('57P03', 'the database system is starting up')],
    ['connection exception class', coded('08006')],
    ['pg connection terminated', new Error('Connection terminated unexpectedly')],
    ['pg-pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['ioredis closed', new Error('Connection is closed.')],
    ['wrapped by an ORM', new Error('Failed query: select 1', { cause: coded('ECONNREFUSED') })],
    ['every address refused', new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')])],
  ])('%s: unreachable', (_what, err) => {
    expect(isUnreachable(err)).toBe(true);
  });

  it.each([
    ['a unique violation', coded('23505', 'duplicate key value')],
    ['invalid text', coded('22P05', 'unsupported Unicode escape sequence')],
    ['a plain bug', new TypeError('cannot read properties of undefined')],
    ['not an error', 'ECONNREFUSED'],
    ['a lock timeout', coded('55P03', 'lock not available')],
  ])('%s: a failure of the message', (_what, err) => {
    expect(isUnreachable(err)).toBe(false);
  });
});
