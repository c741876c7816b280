import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { collectEvents, signedWhatsApp, whatsappText } from '@switchboard/testing';
import { afterEach, expect, it } from 'vitest';
import { countRows } from './support.ts';

let p: Pipeline;
afterEach(async () => {
  await p?.stop();
});

const rabbitmqctl = (...args: string[]) => execFileSync('rabbitmqctl', ['-q', ...args], { stdio: 'ignore' });

it('answers 503 while RabbitMQ is down, loses no acknowledged webhook, and reconnects by itself', async () => {
  p = await startPipeline();
  const results: Array<{ id: string; status: number; phase: string }> = [];
  let phase = 'before';
  let stop = false;
  let n = 0;
  const sender = (async () => {
    while (!stop) {
      const id = `wamid.restart-${n++}`;
      const req = signedWhatsApp(whatsappText({ from: `1631555${1000 + (n % 50)}`, id, text: 'x' }));
      const status = await p.post('/webhooks/whatsapp', req).then(
        (r) => r.status,
        () => 0,
      );
      results.push({ id, status, phase });
      await sleep(5);
    }
  })();

  try {
    // Traffic flows first (a busy machine may take a few seconds to pass 30).
    await expect.poll(() => results.filter((r) => r.status === 200).length, { timeout: 15_000 }).toBeGreaterThan(30);
    phase = 'down';
    rabbitmqctl('stop_app');
    await expect
      .poll(() => results.filter((r) => r.phase === 'down' && r.status === 503).length, { timeout: 10_000 })
      .toBeGreaterThan(5);
    // Load balancers see it too: not ready while the broker is away.
    const ready = await fetch(`${p.ingestUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not ready', checks: { broker: 'not connected' } });
    phase = 'restarting';
    rabbitmqctl('start_app');
    rabbitmqctl('await_startup');
    phase = 'after';
    await expect
      .poll(() => results.filter((r) => r.phase === 'after' && r.status === 200).length, { timeout: 30_000 })
      .toBeGreaterThan(30);
  } finally {
    stop = true;
    await sender;
    // Never leave the machine's broker stopped for the tests that follow.
    rabbitmqctl('start_app');
  }

  // Every webhook that got a 200 ends in Postgres; nothing else but 200 and 503 was answered.
  const accepted = results.filter((r) => r.status === 200).map((r) => r.id);
  expect(new Set(results.map((r) => r.status))).toEqual(new Set([200, 503]));
  await expect
    .poll(
      async () =>
        Number(
          (await p.pool.query('select count(*) as n from messages where provider_message_id = any($1)', [accepted]))
            .rows[0]?.n,
        ),
      { timeout: 30_000 },
    )
    .toBe(accepted.length);

  // Both services reconnected on their own: a new downstream consumer sees new messages flow.
  const events = await collectEvents(p.names.events, 'message.received');
  try {
    const res = await p.post(
      '/webhooks/whatsapp',
      signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.after', text: 'y' })),
    );
    expect(res.status).toBe(200);
    await expect.poll(() => events.received.length, { timeout: 10_000 }).toBe(1);
    await expect
      .poll(() => countRows(p, 'select count(*) as n from outbox where published_at is null'), { timeout: 15_000 })
      .toBe(0);
    expect((await fetch(`${p.ingestUrl}/readyz`)).status).toBe(200);
    expect(await p.ingest.metrics.publisher.reconnects.get().then((m) => m.values[0]?.value)).toBeGreaterThanOrEqual(1);
  } finally {
    await events.close();
  }
});
