// Posts a few signed, real-shaped WhatsApp webhooks to the running pipeline (`npm start`) and
// prints what came out on switchboard.events. Run with `npm run demo`.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeEvent } from '@switchboard/contracts';
import { signedWhatsApp, whatsappStatus, whatsappText } from '@switchboard/testing';
import amqp from 'amqplib';
import { z } from 'zod';

const env = z
  .object({
    INGEST_URL: z.string().default('http://127.0.0.1:8080'),
    AMQP_URL: z.string().default('amqp://guest:guest@127.0.0.1:5672'),
    AMQP_NAMESPACE: z.string().default(''),
    WHATSAPP_APP_SECRET: z.string().default('dev-whatsapp-app-secret'),
  })
  .parse(process.env);

const conn = await amqp.connect(env.AMQP_URL);
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

const run = randomUUID().slice(0, 8);
const now = Math.floor(Date.now() / 1000);
const steps: Array<[string, unknown]> = [
  [
    'Kerry writes in',
    whatsappText({
      from: '16315551181',
      id: `wamid.demo-${run}-1`,
      text: 'Hi! Is my order on its way?',
      timestamp: now,
    }),
  ],
  [
    'Kerry again',
    whatsappText({ from: '16315551181', id: `wamid.demo-${run}-2`, text: 'Order #1042', timestamp: now + 1 }),
  ],
  [
    'Ana writes in',
    whatsappText({ from: '4915112345678', id: `wamid.demo-${run}-3`, text: 'Hallo!', name: 'Ana', timestamp: now + 2 }),
  ],
  ['read before delivered', whatsappStatus({ id: `wamid.demo-${run}-1`, status: 'read', timestamp: now + 5 })],
  ['the late delivered', whatsappStatus({ id: `wamid.demo-${run}-1`, status: 'delivered', timestamp: now + 4 })],
  [
    'the same webhook again',
    whatsappText({
      from: '16315551181',
      id: `wamid.demo-${run}-1`,
      text: 'Hi! Is my order on its way?',
      timestamp: now,
    }),
  ],
];

for (const [label, payload] of steps) {
  const req = signedWhatsApp(payload, env.WHATSAPP_APP_SECRET);
  const res = await fetch(`${env.INGEST_URL}/webhooks/whatsapp`, {
    method: 'POST',
    body: req.body,
    headers: req.headers,
  });
  console.log(`→ POST /webhooks/whatsapp  ${label.padEnd(24)} ${res.status} ${await res.text()}`);
  await sleep(300);
}
await sleep(1500);
console.log(`\n${received} event(s) on ${exchange}`);
await conn.close();
