import { deadLetterQueues, listDeadLetters, replayDeadLetters, switchboardTopology } from '@switchboard/platform';
import type { Command } from 'commander';
import { collect, integer } from '../args.ts';
import { readEnv } from '../config.ts';
import { confirm } from '../confirm.ts';
import { withAmqp } from '../connect.ts';
import { CliError } from '../errors.ts';

const queuesOf = (namespace: string) => deadLetterQueues(switchboardTopology(namespace));

function findQueue(namespace: string, name: string) {
  const q = queuesOf(namespace).find((x) => x.name === name);
  if (!q) throw new CliError(`unknown queue ${name} (see: switchboard dlq list)`);
  return q;
}

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('dead-letter and parking queues: list, inspect, replay');

  dlq
    .command('list')
    .description('every dead-letter and parking queue with its depth')
    .action(async () => {
      const env = readEnv();
      await withAmqp(env.AMQP_URL, async (conn) => {
        const ch = await conn.createChannel();
        for (const q of queuesOf(env.AMQP_NAMESPACE)) {
          const { messageCount } = await ch.checkQueue(q.name);
          const replay = q.replayTo ? `  → replays to ${q.replayTo}` : '';
          console.log(`${q.name.padEnd(48)} ${String(messageCount).padStart(8)}${replay}`);
        }
        await ch.close();
      });
    });

  dlq
    .command('show')
    .description('the messages in a queue, one JSON line each: id, type, reason, attempts, body (they stay queued)')
    .argument('<queue>', 'a queue from `dlq list`')
    .option('--limit <n>', 'at most this many', integer(1, 10_000), 50)
    .action(async (queue: string, o: { limit: number }) => {
      const env = readEnv();
      const q = findQueue(env.AMQP_NAMESPACE, queue);
      await withAmqp(env.AMQP_URL, async (conn) => {
        for (const d of await listDeadLetters(conn, q.name, o.limit)) console.log(JSON.stringify(d));
      });
    });

  dlq
    .command('replay')
    .description("move messages back to the queue's consumer: those with the ids given, or all (asks first)")
    .argument('<queue>', 'a replayable queue from `dlq list`')
    .option('--id <message id>', 'replay this message (repeatable)', collect(String))
    .option('--limit <n>', 'at most this many', integer(1, 1_000_000))
    .option('-y, --yes', 'do not ask before replaying without --id')
    .action(async (queue: string, o: { id?: string[]; limit?: number; yes?: boolean }) => {
      const env = readEnv();
      const q = findQueue(env.AMQP_NAMESPACE, queue);
      if (!q.replayTo) throw new CliError(`${queue} is not a replayable dead-letter queue`);
      if (!o.id) await confirm(`replay ${o.limit ? `up to ${o.limit}` : 'every'} message from ${q.name}`, o.yes);
      const replayTo = q.replayTo;
      await withAmqp(env.AMQP_URL, async (conn) => {
        const n = await replayDeadLetters(conn, q.name, replayTo, {
          ...(o.id ? { ids: new Set(o.id) } : {}),
          ...(o.limit ? { limit: o.limit } : {}),
        });
        console.log(`replayed ${n} message(s) from ${q.name} to ${replayTo}`);
      });
    });
}
