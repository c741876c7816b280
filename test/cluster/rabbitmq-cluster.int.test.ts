import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { assertAppliedOnce, waitForConvergence } from '../faults/effects.ts';
import { type Replica, startReplica } from '../faults/fleet.ts';
import { acceptedKeys, deliver, messageHook, mixedStream } from '../faults/stream.ts';
import { countRows, killSpawned } from '../faults/support.ts';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../scripts/rabbitmq-cluster.sh', import.meta.url));
// Booting three Erlang nodes takes about a minute on a quiet 2-core machine, several on a busy one.
const cluster = async (...args: string[]) => (await run('bash', [script, ...args], { timeout: 560_000 })).stdout;

/** Which nodes hold each of this test's quorum queues: name → [members, online]. */
async function quorumMembers(ns: string) {
  const out = await cluster('ctl', '1', '-q', 'list_queues', 'name', 'type', 'members', 'online');
  const rows = out.split('\n').filter((l) => l.startsWith(ns) && l.includes('\tquorum\t'));
  const count = (list: string) => (list.match(/sbt-rmq\d@localhost/g) ?? []).length;
  return rows.map((l) => {
    const [name, , members = '', online = ''] = l.split('\t');
    return { name, members: count(members), online: count(online) };
  });
}

/** A counter of a service's /metrics summed by one label (say `reason`), the others summed over. */
async function countsBy(url: string, name: string, label: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const key = new RegExp(`${label}="([^"]*)"`).exec(m[1] ?? '')?.[1] ?? '';
    out[key] = (out[key] ?? 0) + Number(m[2]);
  }
  return out;
}

/** How many of this test's quorum queues each node leads, as the cluster's metadata says. */
async function queueLeaders(ns: string) {
  const out = await cluster('ctl', '1', '-q', 'list_queues', 'name', 'leader');
  const leaders: Record<string, number> = {};
  for (const l of out.split('\n').filter((row) => row.startsWith(ns))) {
    const node = l.split('\t')[1] ?? '?';
    leaders[node] = (leaders[node] ?? 0) + 1;
  }
  return leaders;
}

const metric = async (url: string, name: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
};

beforeAll(async () => {
  await cluster('start');
});
afterAll(async () => {
  await cluster('stop');
});

let p: Pipeline;
afterEach(async () => {
  await killSpawned();
  await p?.stop();
});

it('a three-node cluster loses a node (SIGKILL) while webhooks arrive: nothing accepted is lost, the services carry on', async () => {
  // Node 2 first in the list: the services start on the node that will be stopped.
  const [n1, n2, n3] = (await cluster('urls')).trim().split(',');
  const env = { AMQP_URL: [n2, n3, n1].join(','), LOCK_TTL_MS: '2000' };
  p = await startPipeline({ worker: false, env });
  const sync = await startReplica('sync-worker', p.env);
  const assignment = await startReplica('assignment-worker', p.env);
  const edgeEnv = { ...p.env, CHANNEL_SECRETS_URL: sync.url };
  const edgeReplicas: Replica[] = [await startReplica('ingest', edgeEnv), await startReplica('webhooks', edgeEnv)];
  const edges = { ingest: [edgeReplicas[0]?.url as string], webhooks: [edgeReplicas[1]?.url as string] };

  const queues = await quorumMembers(p.env.AMQP_NAMESPACE as string);
  expect(queues.length).toBeGreaterThan(0);
  expect(queues.filter((q) => q.members !== 3)).toEqual([]);

  const opening = await deliver(
    Array.from({ length: 20 }, (_, c) => messageHook('open', c, 0)),
    edges,
    8,
  );
  await expect.poll(() => countRows(p, 'select count(*) as n from conversations'), { timeout: 30_000 }).toBe(20);
  const conversations = (await p.pool.query<{ id: string }>('select id from conversations order by id')).rows;
  // Part of the stream is in flight when node 2 dies; the rest arrives while it is down.
  const ids = conversations.map((c) => c.id);
  const before = mixedStream('cl', ids, 12);
  const during = mixedStream('cl2', ids, 8);
  // Edges answer 503 while the cluster recovers (its survivors nacked publishes for ~30 s in our
  // runs): the sender retries like a provider would, here for up to about 35 s.
  const delivering = deliver(before, edges, 16, 60, 2_000);
  await expect
    .poll(() => countRows(p, 'select count(*) as n from messages'), { timeout: 60_000, interval: 20 })
    .toBeGreaterThan(80);
  const storedAtKill = await countRows(p, 'select count(*) as n from messages');
  const leadersBefore = await queueLeaders(p.env.AMQP_NAMESPACE as string);
  await cluster('kill-node', '2');
  const killedAt = Date.now();
  const storedWhenDown = await countRows(p, 'select count(*) as n from messages');
  const leadersAfter = await queueLeaders(p.env.AMQP_NAMESPACE as string);
  const results = [...opening, ...(await Promise.all([delivering, deliver(during, edges, 16, 60, 2_000)])).flat()];
  const answeredMs = Date.now() - killedAt;
  expect(storedWhenDown).toBeLessThan(results.filter((r) => r.hook.kind === 'message').length);

  expect(results.filter((r) => r.status !== 200).map((r) => `${r.hook.key}:${r.status}`)).toEqual([]);
  const accepted = {
    messages: acceptedKeys(results, 'message'),
    statuses: acceptedKeys(results, 'status'),
    tickets: acceptedKeys(results, 'ticket'),
  };
  const bus = await waitForConvergence(p, accepted);
  const convergedMs = Date.now() - killedAt;
  const report = await assertAppliedOnce(p, accepted, bus);

  // Every service moved to a surviving node and is ready; every queue kept two of its three replicas.
  for (const r of [sync, assignment, ...edgeReplicas]) {
    expect(await metric(r.url, 'amqp_reconnects_total')).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${r.url}/readyz`)).status).toBe(200);
  }
  const after = await quorumMembers(p.env.AMQP_NAMESPACE as string);
  expect(after.filter((q) => q.online !== 2)).toEqual([]);
  const replicas = [sync, assignment, ...edgeReplicas];
  const byService = async (name: string) =>
    Object.fromEntries(
      await Promise.all(replicas.map(async (r) => [r.service, await countsBy(r.url, name, 'reason')])),
    );
  console.info('rabbitmq cluster:', {
    answeredMs,
    convergedMs,
    leadersBefore,
    leadersAfter,
    publishFailures: await byService('amqp_publish_failures_total'),
    channelsReplaced: await byService('amqp_publisher_channels_replaced_total'),
    webhooks: results.length,
    retried: results.filter((r) => r.attempts > 1).length,
    maxAttempts: Math.max(...results.map((r) => r.attempts)),
    quorumQueues: queues.length,
    storedAtKill,
    storedWhenDown,
    ...report,
  });
});
