import { coalesceFrameWrites } from '@switchboard/platform';
import { testNamespace, testUrls } from '@switchboard/testing';
import amqp from 'amqplib';
import { afterEach, beforeEach, expect, it } from 'vitest';

let ns: ReturnType<typeof testNamespace>;
let conn: amqp.ChannelModel;
let queue: string;

beforeEach(async () => {
  ns = testNamespace();
  queue = `${ns.ns}coalesce`;
  conn = await amqp.connect(testUrls.amqp);
});

afterEach(async () => {
  const ch = await conn.createChannel();
  await ch.deleteQueue(queue);
  await conn.close();
});

/** Counts the writes that reach the connection's socket (one per syscall: `_write` or `_writev`). */
function countSocketWrites(c: amqp.ChannelModel): { writes: number } {
  const socket = (c as unknown as { connection: { stream: { _write: unknown; _writev: unknown } } }).connection.stream;
  const counted = { writes: 0 };
  for (const method of ['_write', '_writev'] as const) {
    const original = socket[method] as (...args: unknown[]) => unknown;
    socket[method] = function (this: unknown, ...args: unknown[]) {
      counted.writes++;
      return original.apply(this, args);
    };
  }
  return counted;
}

/** Publishes `n` messages in one turn on a confirm channel and waits for every confirm. */
async function publishInOneTurn(ch: amqp.ConfirmChannel, n: number): Promise<void> {
  const confirms = Array.from(
    { length: n },
    (_, i) =>
      new Promise<void>((resolve, reject) =>
        ch.sendToQueue(queue, Buffer.from(JSON.stringify({ i })), { messageId: String(i) }, (err) =>
          err ? reject(err) : resolve(),
        ),
      ),
  );
  await Promise.all(confirms);
}

async function drained(ch: amqp.Channel, n: number): Promise<number[]> {
  const got: number[] = [];
  while (got.length < n) {
    const msg = await ch.get(queue, { noAck: true });
    if (msg) got.push((JSON.parse(msg.content.toString()) as { i: number }).i);
  }
  return got;
}

it("sends one turn's publishes in one socket write, in order, and the broker takes every one", async () => {
  expect(coalesceFrameWrites(conn)).toBe(true);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: false });
  const counted = countSocketWrites(conn);
  await publishInOneTurn(ch, 50);
  // The publishes' frames in one write; nothing else is written by this connection meanwhile.
  expect(counted.writes).toBe(1);
  expect(await drained(ch, 50)).toEqual(Array.from({ length: 50 }, (_, i) => i));
});

it('without it, amqplib writes each publish on its own (what the coalescing saves)', async () => {
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: false });
  const counted = countSocketWrites(conn);
  await publishInOneTurn(ch, 50);
  expect(counted.writes).toBe(50);
});

it('keeps back-pressure: a turn larger than the socket buffer still arrives whole', async () => {
  coalesceFrameWrites(conn);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: false });
  const big = Buffer.alloc(64 * 1024, 'x');
  const n = 40;
  await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<void>((resolve, reject) =>
          ch.sendToQueue(queue, Buffer.concat([Buffer.from(`${i}:`), big]), {}, (err) =>
            err ? reject(err) : resolve(),
          ),
        ),
    ),
  );
  const got: number[] = [];
  while (got.length < n) {
    const msg = await ch.get(queue, { noAck: true });
    if (msg) got.push(Number(msg.content.toString('utf8', 0, 8).split(':')[0]));
  }
  expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
});
