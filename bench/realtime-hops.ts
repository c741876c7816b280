import { Redis } from '@switchboard/platform';
import type { BenchContext } from './context.ts';
import type { FleetClient } from './realtime-clients.ts';
import { type LatencySummary, summarize } from './stats.ts';

/**
 * Where the bus → client latency of each frame went, hop by hop, from timestamps the run leaves
 * behind: when the bench meant to publish the event (due) and did (sent); when a gateway took it
 * off the bus (the replay log entry's `r`); when Redis appended it (the entry id's milliseconds);
 * when the client read its frame. All on this machine's clock.
 *   generator  due → sent        the bench's own publishing loop falling behind
 *   bus        sent → taken      RabbitMQ and the gateway's consumer
 *   append     taken → appended  the Lua append to the replay log and the publishes
 *   fan-out    appended → read   the pub/sub delivery to the replicas, routing, the socket write and the client's read
 */
export type Hops = Record<'generator' | 'bus' | 'append' | 'fanOut', LatencySummary>;

interface Sent {
  id: string;
  dueAt: number;
  sentAt: number;
}

async function logTimes(ctx: BenchContext, tenantId: string, ids: Set<string>) {
  const redis = new Redis(ctx.env.redisUrl, { keyPrefix: ctx.env.redisPrefix, lazyConnect: true });
  await redis.connect();
  const times = new Map<string, { takenAt: number; appendedAt: number }>();
  try {
    let from = '-';
    for (;;) {
      const page = await redis.xrange(`rt:log:${tenantId}`, from, '+', 'COUNT', 2_000);
      for (const [entryId, fields] of page) {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
        const id = (JSON.parse(f.e ?? '{}') as { id?: string }).id;
        if (id && ids.has(id)) times.set(id, { takenAt: Number(f.r), appendedAt: Number(entryId.split('-')[0]) });
      }
      const last = page.at(-1);
      if (page.length < 2_000 || !last) return times;
      from = `(${last[0]}`;
    }
  } finally {
    redis.disconnect();
  }
}

export async function latencyByHop(
  ctx: BenchContext,
  tenantId: string,
  clients: FleetClient[],
  sent: Sent[],
): Promise<Hops> {
  const byId = new Map(sent.map((s) => [s.id, s]));
  const times = await logTimes(ctx, tenantId, new Set(byId.keys()));
  const hops = { generator: [] as number[], bus: [] as number[], append: [] as number[], fanOut: [] as number[] };
  for (const c of clients) {
    for (const [id, readAt] of c.arrivedAt) {
      const s = byId.get(id);
      const t = times.get(id);
      if (!s || !t) continue;
      hops.generator.push(s.sentAt - s.dueAt);
      hops.bus.push(t.takenAt - s.sentAt);
      hops.append.push(t.appendedAt - t.takenAt);
      hops.fanOut.push(readAt - t.appendedAt);
    }
  }
  return {
    generator: summarize(hops.generator),
    bus: summarize(hops.bus),
    append: summarize(hops.append),
    fanOut: summarize(hops.fanOut),
  };
}

export const describeHops = (h: Hops) =>
  `latency by hop, p50 / p99 ms: generator ${h.generator.p50} / ${h.generator.p99}, bus ${h.bus.p50} / ${h.bus.p99}, ` +
  `append ${h.append.p50} / ${h.append.p99}, fan-out ${h.fanOut.p50} / ${h.fanOut.p99}`;
