import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeEvent } from '@switchboard/contracts';
import { signedWhatsApp, whatsappStatus, whatsappText } from '@switchboard/testing/whatsapp';
import type { Command } from 'commander';
import { type CliEnv, readEnv } from '../config.ts';
import { withAmqp } from '../connect.ts';
import { CliError } from '../errors.ts';

/** Real-shaped WhatsApp webhooks: two customers, a status out of order, a duplicate delivery. */
function demoSteps(): Array<[string, unknown]> {
  const run = randomUUID().slice(0, 8);
  const now = Math.floor(Date.now() / 1000);
  const kerry = (n: number, text: string, at: number) =>
    whatsappText({ from: '16315551181', id: `wamid.demo-${run}-${n}`, text, timestamp: at });
  return [
    ['Kerry writes in', kerry(1, 'Hi! Is my order on its way?', now)],
    ['Kerry again', kerry(2, 'Order #1042', now + 1)],
    [
      'Ana writes in',
      whatsappText({
        from: '4915112345678',
        id: `wamid.demo-${run}-3`,
        text: 'Hallo!',
        name: 'Ana',
        timestamp: now + 2,
      }),
    ],
    ['read before delivered', whatsappStatus({ id: `wamid.demo-${run}-1`, status: 'read', timestamp: now + 5 })],
    ['the late delivered', whatsappStatus({ id: `wamid.demo-${run}-1`, status: 'delivered', timestamp: now + 4 })],
    ['the same webhook again', kerry(1, 'Hi! Is my order on its way?', now)],
  ];
}

async function post(env: CliEnv, label: string, payload: unknown) {
  const req = signedWhatsApp(payload, env.WHATSAPP_APP_SECRET);
  const url = `${env.INGEST_URL}/webhooks/whatsapp`;
  const res = await fetch(url, { method: 'POST', body: req.body, headers: req.headers }).catch((err: unknown) => {
    throw new CliError(
      `cannot reach the ingest service at ${env.INGEST_URL} (${(err as Error).cause ?? err}); is \`npm start\` running?`,
    );
  });
  console.log(`→ POST /webhooks/whatsapp  ${label.padEnd(24)} ${res.status} ${await res.text()}`);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'post a few signed WhatsApp webhooks to a running pipeline (INGEST_URL) and print the events that come out',
    )
    .option('--pause-ms <ms>', 'pause between webhooks, so the output reads as a story', (v) => Number(v), 300)
    .action(async (o: { pauseMs: number }) => {
      const env = readEnv();
      await withAmqp(env.AMQP_URL, async (conn) => {
        const ch = await conn.createChannel();
        const exchange = `${env.AMQP_NAMESPACE}switchboard.events`;
        await ch.assertExchange(exchange, 'topic', { durable: true });
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
        await ch.bindQueue(queue, exchange, '#');
        let received = 0;
        await ch.consume(
          queue,
          (msg) => {
            if (!msg) return;
            received++;
            const decoded = decodeEvent(msg.content);
            const data = decoded.ok ? decoded.event.data : msg.content.toString();
            console.log(`  ← ${msg.fields.routingKey.padEnd(24)} ${JSON.stringify(data)}`);
          },
          { noAck: true },
        );
        for (const [label, payload] of demoSteps()) {
          await post(env, label, payload);
          await sleep(o.pauseMs);
        }
        await sleep(o.pauseMs * 5); // the last events are still on their way through the workers
        console.log(`\n${received} event(s) on ${exchange}`);
      });
    });
}
