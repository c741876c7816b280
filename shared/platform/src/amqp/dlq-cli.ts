import amqp from 'amqplib';
import { z } from 'zod';
import { deadLetterQueues, listDeadLetters, replayDeadLetters } from './dead-letters.ts';
import { switchboardTopology } from './topology.ts';

const usage = `usage: npm run dlq -- <command>
  list                         every dead-letter and parking queue with its depth
  show <queue> [--limit N]     the messages in a queue: id, type, reason, attempts, body
  replay <queue> [--id ID ...] [--limit N]
                               move messages back to the queue's consumer (all, or the ids given)`;

const env = z
  .object({
    AMQP_URL: z.string().default('amqp://guest:guest@127.0.0.1:5672'),
    AMQP_NAMESPACE: z.string().default(''),
  })
  .parse(process.env);

const [command, queueArg, ...rest] = process.argv.slice(2);
const flag = (name: string) => rest.flatMap((v, i) => (v === name && rest[i + 1] ? [rest[i + 1] as string] : []));
const limit = Number(flag('--limit')[0] ?? 50);
const topology = switchboardTopology(env.AMQP_NAMESPACE);
const queues = deadLetterQueues(topology);

const conn = await amqp.connect(env.AMQP_URL);
try {
  switch (command) {
    case 'list': {
      const ch = await conn.createChannel();
      for (const q of queues) {
        const { messageCount } = await ch.checkQueue(q.name);
        console.log(
          `${q.name.padEnd(48)} ${String(messageCount).padStart(8)}${q.replayTo ? `  → replays to ${q.replayTo}` : ''}`,
        );
      }
      await ch.close();
      break;
    }
    case 'show': {
      const q = queues.find((x) => x.name === queueArg);
      if (!q) throw new Error(`unknown queue ${queueArg}; see 'npm run dlq -- list'`);
      for (const d of await listDeadLetters(conn, q.name, limit)) console.log(JSON.stringify(d));
      break;
    }
    case 'replay': {
      const q = queues.find((x) => x.name === queueArg);
      if (!q?.replayTo) throw new Error(`${queueArg} is not a replayable dead-letter queue`);
      const ids = flag('--id');
      const n = await replayDeadLetters(conn, q.name, q.replayTo, {
        ...(ids.length > 0 ? { ids: new Set(ids) } : {}),
        ...(flag('--limit').length > 0 ? { limit } : {}),
      });
      console.log(`replayed ${n} message(s) from ${q.name} to ${q.replayTo}`);
      break;
    }
    default:
      console.error(usage);
      process.exitCode = 2;
  }
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await conn.close();
}
