import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createRedis } from '@switchboard/platform';
import { createEventLog } from '../services/realtime/src/event-log.ts';
import { routeEvent } from '../services/realtime/src/topics.ts';

/**
 * What it costs one gateway replica to tail the live stream, apart from everything else it does:
 * a child process tails `rt:live` as the gateway does (XREAD BLOCK, parse, route; no clients)
 * while this one appends RATE events a second for SECONDS through the gateway's own Lua append,
 * and the child reports its CPU (all threads, user + system) per entry and per read. `idle`: the
 * same child sleeping, for the process's own floor. Every replica pays this for every event,
 * whether or not its clients want it.
 *
 *   npx tsx bench/realtime-tail-cost.ts [tail|idle]
 */
const RATE = 500;
const SECONDS = 10;
const PREFIX = `bench-tail-${process.pid}:`;
const REDIS_URL = 'redis://127.0.0.1:6379';
const logger = createLogger('bench', 'silent');

async function connect(prefix: string) {
  const redis = createRedis(REDIS_URL, logger, { keyPrefix: prefix });
  await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

const options = { maxLen: 10_000, ttlMs: 600_000, liveMaxLen: 100_000 };

async function tail(mode: string, prefix: string) {
  const redis = await connect(prefix);
  const blocking = await connect(prefix);
  const log = createEventLog(redis, options);
  let after = await log.liveHead();
  process.send?.('ready');
  const cpu0 = process.cpuUsage();
  const until = Date.now() + SECONDS * 1000;
  let entries = 0;
  let reads = 0;
  while (Date.now() < until) {
    if (mode === 'idle') {
      await sleep(100);
      continue;
    }
    const page = await log.readLive(blocking, after, 1_000);
    reads++;
    for (const e of page) {
      const ce = JSON.parse(e.json) as { type: string; data: unknown };
      routeEvent(ce.type, ce.data);
      entries++;
    }
    after = page.at(-1)?.liveId ?? after;
  }
  const cpu = process.cpuUsage(cpu0);
  const us = cpu.user + cpu.system;
  const per = (n: number) => (n > 0 ? Math.round(us / n) : null);
  console.log(
    JSON.stringify({
      mode,
      seconds: SECONDS,
      entries,
      reads,
      cpuMs: Math.round(us / 1000),
      usPerEntry: per(entries),
      usPerRead: per(reads),
    }),
  );
  redis.disconnect();
  blocking.disconnect();
}

async function append(mode: string) {
  const child = fork(new URL(import.meta.url).pathname, ['--child', mode, PREFIX], { execArgv: ['--import', 'tsx'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve) => child.once('message', resolve));
  const redis = await connect(PREFIX);
  const log = createEventLog(redis, options);
  const tenant = randomUUID();
  const t0 = Date.now();
  for (let i = 0; i < RATE * SECONDS; i++) {
    const wait = t0 + (i * 1000) / RATE - Date.now();
    if (wait > 1) await sleep(wait);
    const id = randomUUID();
    const data = { messageId: id, conversationId: randomUUID(), provider: 'whatsapp', status: 'delivered' };
    const ce = {
      specversion: '1.0',
      id,
      source: 'bench',
      type: 'switchboard.message.status.changed.v1',
      tenantid: tenant,
      data,
    };
    await log.append(tenant, id, JSON.stringify(ce), Date.now());
  }
  await exited;
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(PREFIX.length)));
  redis.disconnect();
}

const [flag, mode = 'tail', prefix = PREFIX] = process.argv.slice(2);
if (flag === '--child') await tail(mode, prefix);
else await append(flag ?? 'tail');
