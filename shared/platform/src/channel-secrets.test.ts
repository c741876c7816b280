import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelSecretMetrics, createChannelSecrets } from './channel-secrets.ts';
import { DependencyUnavailableError } from './edge.ts';
import { createRegistry } from './metrics.ts';

type Reply = { status: number; body?: unknown };
/** A hand-written stand-in for the sync-worker's internal route: answers what `reply` says. */
let reply: Reply | ((url: string) => Reply) = { status: 200, body: { secrets: ['s-current', 's-previous'] } };
let calls: string[] = [];
let server: Server;
let url: string;
beforeEach(async () => {
  calls = [];
  server = createServer((req, res) => {
    calls.push(`${req.headers.authorization} ${req.url}`);
    const r = typeof reply === 'function' ? reply(req.url ?? '') : reply;
    res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body ?? {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise((r) => server.close(r));
});

describe('createChannelSecrets', () => {
  it('asks the registry with the internal token and uses the channel secrets, current first', async () => {
    reply = { status: 200, body: { secrets: ['s-current', 's-previous'] } };
    const secretsFor = createChannelSecrets({ url, token: 'tok', ttlMs: 60_000 });
    expect(await secretsFor('whatsapp', '123/4', 'env')).toEqual(['s-current', 's-previous']);
    expect(calls).toEqual(['Bearer tok /internal/channels/whatsapp/123%2F4/secrets']);
    await secretsFor('whatsapp', '123/4', 'env');
    expect(calls).toHaveLength(1); // cached
  });

  it('falls back to the env default for a channel without secrets or an unknown account', async () => {
    const secretsFor = createChannelSecrets({ url, token: 'tok', ttlMs: 0 });
    reply = { status: 200, body: { secrets: [] } };
    expect(await secretsFor('helpdesk', 'a', 'env')).toEqual(['env']);
    reply = { status: 404, body: { error: 'not_found' } };
    expect(await secretsFor('helpdesk', 'b', 'env')).toEqual(['env']);
  });

  it('keeps using a stale answer when the registry fails, and answers 503 with none, never the env default', async () => {
    const secretsFor = createChannelSecrets({ url, token: 'tok', ttlMs: 0 });
    reply = { status: 200, body: { secrets: ['s-current'] } };
    expect(await secretsFor('whatsapp', '1', 'env')).toEqual(['s-current']);
    reply = { status: 500 };
    expect(await secretsFor('whatsapp', '1', 'env')).toEqual(['s-current']);
    await expect(secretsFor('whatsapp', '2', 'env')).rejects.toBeInstanceOf(DependencyUnavailableError);
    reply = { status: 200, body: { secrets: 'not a list' } };
    await expect(secretsFor('whatsapp', '3', 'env')).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('without a registry URL every channel uses the env default', async () => {
    const secretsFor = createChannelSecrets({ token: 'tok', ttlMs: 0 });
    expect(await secretsFor('whatsapp', '1', 'env')).toEqual(['env']);
    expect(calls).toEqual([]);
  });
});

describe('createChannelSecrets under a flood of made-up accounts', () => {
  /** The registry knows a channel with secrets and one without; every other account is unknown (404). */
  const registry = (u: string): Reply => {
    if (u.includes('/real/')) return { status: 200, body: { secrets: ['s-real'] } };
    if (u.includes('/plain/')) return { status: 200, body: { secrets: [] } };
    return { status: 404, body: { error: 'not_found' } };
  };
  const value = async (
    metric: { get(): Promise<{ values: Array<{ labels: object; value: number }> }> },
    label: object,
  ) => (await metric.get()).values.find((v) => JSON.stringify(v.labels) === JSON.stringify(label))?.value ?? 0;

  it('asks once per account, keeps at most maxEntries answers, and never evicts a real channel', async () => {
    reply = registry;
    const metrics = channelSecretMetrics(createRegistry('test'));
    const secretsFor = createChannelSecrets({ url, token: 'tok', ttlMs: 60_000, maxEntries: 50 }, metrics);
    expect(await secretsFor('whatsapp', 'real', 'env')).toEqual(['s-real']);
    expect(await secretsFor('whatsapp', 'plain', 'env')).toEqual(['env']);

    // 400 made-up accounts, each asked for by three requests at once.
    const made = Array.from({ length: 400 }, (_, i) => `fake-${i}`);
    for (let i = 0; i < made.length; i += 50) {
      const wave = made.slice(i, i + 50).flatMap((a) => [a, a, a]);
      const answers = await Promise.all(wave.map((a) => secretsFor('whatsapp', a, 'env')));
      expect(new Set(answers.map((a) => a.join()))).toEqual(new Set(['env']));
    }
    expect(calls).toHaveLength(2 + made.length);
    expect(await value(metrics.lookups, { result: 'unknown' })).toBe(made.length);
    expect(await value(metrics.cached, { kind: 'unknown' })).toBe(50);
    expect(await value(metrics.cached, { kind: 'known' })).toBe(2);

    // The real channels (with secrets of their own or not) are still cached: no new lookup. The
    // latest unknown accounts are too.
    expect(await secretsFor('whatsapp', 'real', 'env')).toEqual(['s-real']);
    expect(await secretsFor('whatsapp', 'plain', 'env')).toEqual(['env']);
    expect(await secretsFor('whatsapp', 'fake-399', 'env')).toEqual(['env']);
    expect(calls).toHaveLength(2 + made.length);
    // The oldest were evicted: asking again is a new lookup.
    await secretsFor('whatsapp', 'fake-0', 'env');
    expect(calls).toHaveLength(3 + made.length);
  });

  it('shares one lookup among concurrent requests for an account, and asks again once the answer is old', async () => {
    reply = registry;
    const secretsFor = createChannelSecrets({ url, token: 'tok', ttlMs: 60_000 });
    await Promise.all(Array.from({ length: 20 }, () => secretsFor('whatsapp', 'fake-x', 'env')));
    await Promise.all(Array.from({ length: 20 }, () => secretsFor('whatsapp', 'real', 'env')));
    expect(calls).toHaveLength(2);

    // A negative answer expires like a positive one: with no TTL, every request asks.
    const uncached = createChannelSecrets({ url, token: 'tok', ttlMs: 0 });
    await uncached('whatsapp', 'fake-y', 'env');
    await uncached('whatsapp', 'fake-y', 'env');
    expect(calls).toHaveLength(4);
  });
});
