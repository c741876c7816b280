import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChannelSecrets } from './channel-secrets.ts';
import { DependencyUnavailableError } from './edge.ts';

/** A hand-written stand-in for the sync-worker's internal route: answers what `reply` says. */
let reply: { status: number; body?: unknown } = { status: 200, body: { secrets: ['s-current', 's-previous'] } };
let calls: string[] = [];
let server: Server;
let url: string;
beforeEach(async () => {
  calls = [];
  server = createServer((req, res) => {
    calls.push(`${req.headers.authorization} ${req.url}`);
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body ?? {}));
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
