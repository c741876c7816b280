import { describe, expect, it } from 'vitest';
import { commonEnv, parseEnv } from '../config.ts';
import { amqpUrls } from './broker.ts';

describe('AMQP_URL with the nodes of a cluster', () => {
  const cluster = 'amqp://u:p@rmq-0:5672, amqp://u:p@rmq-1:5672,amqps://u:p@rmq-2:5671';

  it('parses a list of nodes and splits it in order', () => {
    const env = parseEnv(commonEnv, { AMQP_URL: cluster });
    expect(amqpUrls(env.AMQP_URL)).toEqual([
      'amqp://u:p@rmq-0:5672',
      'amqp://u:p@rmq-1:5672',
      'amqps://u:p@rmq-2:5671',
    ]);
  });

  it('keeps one URL as a list of one', () => {
    expect(amqpUrls('amqp://guest:guest@127.0.0.1:5672')).toEqual(['amqp://guest:guest@127.0.0.1:5672']);
  });

  it.each(['amqp://a:5672,http://b:5672', 'amqp://a:5672,,nope', 'redis://a:6379'])('refuses %s at boot', (value) => {
    expect(() => parseEnv(commonEnv, { AMQP_URL: value })).toThrow(/AMQP_URL: must be a URL with one of amqp:, amqps:/);
  });
});
