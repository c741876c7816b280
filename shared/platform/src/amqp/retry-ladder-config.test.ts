import { describe, expect, it } from 'vitest';
import { commonEnv, parseEnv } from '../config.ts';
import { switchboardTopology } from './topology.ts';

describe('AMQP_RETRY_DELAYS_MS, the retry ladder', () => {
  it('defaults to 1 s, 5 s, 30 s', () => {
    expect(parseEnv(commonEnv, {}).AMQP_RETRY_DELAYS_MS).toEqual([1_000, 5_000, 30_000]);
  });

  it('reads a comma-separated list, and each delay becomes its own TTL queue', () => {
    const delays = parseEnv(commonEnv, { AMQP_RETRY_DELAYS_MS: '250, 500,1000' }).AMQP_RETRY_DELAYS_MS;
    expect(delays).toEqual([250, 500, 1_000]);
    const { syncInbound } = switchboardTopology('', { retryDelaysMs: delays }).consumers;
    expect([1, 2, 3, 4].map((attempt) => syncInbound.retryQueue(attempt))).toEqual([
      'sync-worker.inbound.retry-250ms',
      'sync-worker.inbound.retry-500ms',
      'sync-worker.inbound.retry-1000ms',
      'sync-worker.inbound.retry-1000ms',
    ]);
  });

  it.each(['', '1000,', 'abc', '0,1000', '-5'])('refuses %j at boot', (value) => {
    expect(() => parseEnv(commonEnv, { AMQP_RETRY_DELAYS_MS: value })).toThrow(/AMQP_RETRY_DELAYS_MS/);
  });
});
