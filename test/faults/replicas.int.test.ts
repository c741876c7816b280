import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { afterEach, expect, it } from 'vitest';
import { assertAppliedOnce, type BusReport, waitForConvergence } from './effects.ts';
import { PORT_VARIABLES, type Replica, relayLeader, type ServiceName, startReplica } from './fleet.ts';
import { acceptedKeys, deliver, type Edges, messageHook, mixedStream } from './stream.ts';
import { countRows, killSpawned, stopService } from './support.ts';

let p: Pipeline;
afterEach(async () => {
  await killSpawned();
  await p?.stop();
});

const CUSTOMERS = 30;
const PER_CUSTOMER = 12;
let started = 0;
/** Where the time goes (the machine is shared: the phases say which one was slow). */
const step = (what: string) => console.info(`replicas: ${what} at ${((Date.now() - started) / 1000).toFixed(1)} s`);

/**
 * Two replicas of each service, a pair at a time (eight processes compiling TypeScript at once
 * starve each other on a small machine). The edges are paired with a sync-worker each for channel
 * secrets (in production a load-balanced address): an edge whose sync-worker is killed answers
 * from its cached secrets.
 */
async function startFleet(env: Record<string, string>) {
  const fleet = {} as Record<ServiceName, Replica[]>;
  const twice = (service: ServiceName, envFor: (i: number) => Record<string, string> = () => env) =>
    Promise.all([0, 1].map((i) => startReplica(service, envFor(i))));
  fleet['sync-worker'] = await twice('sync-worker');
  fleet['assignment-worker'] = await twice('assignment-worker');
  const edgeEnv = (i: number) => ({ ...env, CHANNEL_SECRETS_URL: (fleet['sync-worker'][i] as Replica).url });
  fleet.ingest = await twice('ingest', edgeEnv);
  fleet.webhooks = await twice('webhooks', edgeEnv);
  const edges: Edges = { ingest: fleet.ingest.map((r) => r.url), webhooks: fleet.webhooks.map((r) => r.url) };
  return { fleet, edges };
}

it('two replicas of every service, one of each SIGKILLed mid-stream: every accepted webhook applied once, one event id per effect', async () => {
  started = Date.now();
  // Short lock TTL: a killed replica's conversation locks must expire before the survivor needs them.
  p = await startPipeline({ worker: false, env: { LOCK_TTL_MS: '2000' } });
  const { fleet, edges } = await startFleet(p.env);
  step('eight replicas ready');

  // Conversations first, so the helpdesk's tickets in the stream have something to belong to.
  const opening = Array.from({ length: CUSTOMERS }, (_, c) => messageHook('open', c, 0));
  const opened = await deliver(opening, edges, 8);
  expect(opened.filter((r) => r.status !== 200)).toEqual([]);
  await expect.poll(() => countRows(p, 'select count(*) as n from conversations'), { timeout: 20_000 }).toBe(CUSTOMERS);
  const conversations = (await p.pool.query<{ id: string }>('select id from conversations order by id')).rows;

  step('conversations opened');
  const stream = mixedStream(
    'rs',
    conversations.map((c) => c.id),
    PER_CUSTOMER,
  );
  const delivering = deliver(stream, edges, 24);
  // Mid-stream: some of it stored, most still on its way.
  await expect
    .poll(() => countRows(p, 'select count(*) as n from messages'), { timeout: 30_000, interval: 20 })
    .toBeGreaterThan(CUSTOMERS + 100);
  // The outbox relay's leader (one per database, among all four worker replicas) is one of the
  // victims, so a survivor must take the relay over; otherwise the first replica of each service.
  const leader = await relayLeader([...fleet['sync-worker'], ...fleet['assignment-worker']]);
  const victims = (Object.keys(PORT_VARIABLES) as ServiceName[]).map((s) =>
    leader.service === s ? leader : (fleet[s][0] as Replica),
  );
  const killed = victims.map((r) => r.child);
  await Promise.all(killed.map((child) => stopService(child, 'SIGKILL')));
  const storedAtKill = await countRows(p, 'select count(*) as n from messages');
  step(`one replica of each service killed with ${storedAtKill} messages stored`);
  const results = [...opened, ...(await delivering)];

  const accepted = {
    messages: acceptedKeys(results, 'message'),
    statuses: acceptedKeys(results, 'status'),
    tickets: acceptedKeys(results, 'ticket'),
  };
  const unanswered = results.filter((r) => r.status < 200 || r.status >= 300);
  // The survivors take every retry: all but the few a killed edge held at the kill are accepted.
  expect(unanswered.length).toBeLessThan(results.length * 0.02);
  expect(storedAtKill).toBeLessThan(CUSTOMERS * (PER_CUSTOMER + 1));

  step('stream delivered');
  const bus = await waitForConvergence(p, accepted);
  step('converged');
  const report: BusReport = await assertAppliedOnce(p, accepted, bus);
  console.info('replicas:', {
    webhooks: results.length,
    accepted: results.length - unanswered.length,
    unanswered: unanswered.map((r) => `${r.hook.kind}:${r.status}`),
    retried: results.filter((r) => r.attempts > 1).length,
    storedAtKill,
    ...report,
  });
});
