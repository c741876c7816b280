import { execSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { queueDepth, signedWhatsApp, whatsappText } from '@switchboard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { countRows, postMessages } from './support.ts';

/**
 * Outages pause, they do not poison: Postgres down for several times the whole retry ladder while
 * 500 webhooks are accepted. The workers stop consuming instead of burning attempts; once Postgres
 * is back every message is stored exactly once and no dead-letter queue holds anything. The ladder
 * is shortened (production's is 1 s, 5 s, 30 s, 30 s: about 66 s) so the outage can outlast it
 * five times over in a fraction of the time; what matters is outage ≫ ladder.
 */
const RETRY_DELAYS_MS = [250, 500, 1_000];
const LADDER_MS = 250 + 500 + 1_000 + 1_000; // five attempts: four retries, the last delay repeating
const OUTAGE_MS = 5 * LADDER_MS;
const cluster = () => execSync('ls /etc/postgresql').toString().trim();
const pgctl = (action: 'stop' | 'start') =>
  execSync(`pg_ctlcluster --skip-systemctl-redirect ${cluster()} main ${action} -m fast`, { stdio: 'ignore' });
const startPostgres = () => {
  execSync(`pg_ctlcluster --skip-systemctl-redirect ${cluster()} main start || true`, { stdio: 'ignore' });
};

let p: Pipeline | undefined;
afterEach(async () => {
  startPostgres();
  await p?.stop();
});

const gauge = async (g: { get(): Promise<{ values: Array<{ value: number }> }> }) =>
  (await g.get()).values.reduce((s, v) => s + v.value, 0);

describe('a Postgres outage longer than the retry ladder', () => {
  it('pauses both workers; after it every accepted webhook is stored once and nothing is dead-lettered', async () => {
    p = await startPipeline({
      assignment: true,
      env: { LOCK_WAIT_MS: '2000', AMQP_RETRY_DELAYS_MS: RETRY_DELAYS_MS.join(',') },
    });
    const pipeline = p;
    // One message before the outage: the edge's channel-secret cache is warm, as in production.
    const first = signedWhatsApp(whatsappText({ from: '16315550999', id: 'wamid.pg-warm', text: 'hi' }));
    expect((await pipeline.post('/webhooks/whatsapp', first)).status).toBe(200);
    await expect.poll(() => countRows(pipeline, 'select count(*) as n from messages'), { timeout: 30_000 }).toBe(1);

    pgctl('stop');
    const down = Date.now();
    const results = await postMessages(pipeline, 500, 8, 'pg-outage');
    // The edges need no Postgres: every webhook is accepted through the outage.
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const worker = pipeline.worker as NonNullable<Pipeline['worker']>;
    await expect.poll(() => gauge(worker.metrics.consumer.paused), { timeout: 30_000 }).toBe(1);
    const api = await pipeline.api('/tenant');
    expect([api.status, api.headers.get('retry-after')]).toEqual([503, '5']);
    // The outage itself is the scenario: Postgres stays down for its full length.
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - down)));
    expect(await gauge(worker.metrics.consumer.retried)).toBe(0);
    pgctl('start');

    await expect
      .poll(() => countRows(pipeline, 'select count(*) as n from messages').catch(() => -1), {
        timeout: 120_000,
        interval: 500,
      })
      .toBe(501);
    await expect
      .poll(() => countRows(pipeline, 'select count(*) as n from outbox where published_at is null'), {
        timeout: 60_000,
      })
      .toBe(0);
    expect(await countRows(pipeline, 'select count(distinct provider_message_id) as n from messages')).toBe(501);
    expect(await countRows(pipeline, `select count(*) as n from outbox where routing_key = 'message.received'`)).toBe(
      501,
    );
    const { syncInbound, assignmentEvents } = worker.topology.consumers;
    await expect.poll(() => queueDepth(assignmentEvents.name), { timeout: 60_000 }).toBe(0);
    expect(await queueDepth(syncInbound.deadQueue)).toBe(0);
    expect(await queueDepth(assignmentEvents.deadQueue)).toBe(0);
    expect(await gauge(worker.metrics.consumer.paused)).toBe(0);
    expect((await pipeline.api('/tenant')).status).toBe(200);
  }, 360_000);
});
