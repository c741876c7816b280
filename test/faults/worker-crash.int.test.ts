import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { afterEach, expect, it } from 'vitest';
import { countRows, killSpawned, postMessages, spawnService, stopService } from './support.ts';

let p: Pipeline;
afterEach(async () => {
  await killSpawned();
  await p?.stop();
});

it('loses and duplicates nothing when the sync-worker is SIGKILLed with 2,000 messages in flight', async () => {
  // Short lock TTL: the killed worker's Redis locks must expire before its successor needs them.
  p = await startPipeline({ worker: false, env: { LOCK_TTL_MS: '2000', SYNC_WORKER_PORT: '0' } });
  const first = spawnService('sync-worker', p.env);
  const posting = postMessages(p, 2_000, 32, 'crash');

  // Kill it mid-stream: some messages stored, most still queued or in its hands.
  await expect
    .poll(() => countRows(p, 'select count(*) as n from messages'), { timeout: 60_000, interval: 20 })
    .toBeGreaterThan(200);
  await stopService(first, 'SIGKILL');
  const storedAtKill = await countRows(p, 'select count(*) as n from messages');

  const results = await posting;
  expect(results.filter((r) => r.status !== 200)).toEqual([]);
  expect(storedAtKill).toBeLessThan(2_000);

  const second = spawnService('sync-worker', p.env);
  try {
    await expect
      .poll(() => countRows(p, 'select count(*) as n from messages'), { timeout: 90_000, interval: 200 })
      .toBe(2_000);
    await expect
      .poll(() => countRows(p, `select count(*) as n from outbox where published_at is null`), { timeout: 30_000 })
      .toBe(0);
  } finally {
    await stopService(second);
  }

  expect(await countRows(p, 'select count(distinct provider_message_id) as n from messages')).toBe(2_000);
  expect(await countRows(p, `select count(*) as n from outbox where routing_key = 'message.received'`)).toBe(2_000);
  // The bus is at-least-once: a relay killed between confirm and mark re-publishes, with the same
  // CloudEvents id. What a consumer that dedupes by id sees is exactly one event per message.
  const received = p.events.ofKey('message.received');
  const ids = new Set(received.map((r) => r.event.id));
  const messages = new Set(received.map((r) => (r.event.data as { providerMessageId: string }).providerMessageId));
  expect(ids.size).toBe(2_000);
  expect(messages.size).toBe(2_000);
  expect(received.length - ids.size).toBeLessThanOrEqual(500);
});
