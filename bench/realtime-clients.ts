import WebSocket from 'ws';

/**
 * The bench's WebSocket clients: each subscribes to its topics and records, per event id, when
 * the frame arrived (bus → client latency is measured against the time the event was due on the
 * bus, carried in its data as `benchDueAt`, on this process's clock).
 */
export interface FleetClient {
  ws: WebSocket;
  topics: string[];
  /** Event id → arrivals (more than one is a duplicate). */
  seen: Map<string, number>;
  latencies: number[];
  /** Event id → when its first frame arrived (bench clock), for the latency by hop. */
  arrivedAt: Map<string, number>;
  closedEarly: boolean;
}

const now = () => performance.timeOrigin + performance.now();

async function connectOne(url: string, topics: string[]): Promise<FleetClient> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const client: FleetClient = { ws, topics, seen: new Map(), latencies: [], arrivedAt: new Map(), closedEarly: false };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('subscribe timed out')), 30_000);
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString()) as { type: string; id?: string; data?: { benchDueAt?: number } };
      if (f.type === 'subscribed') {
        clearTimeout(timer);
        resolve();
      } else if (f.type === 'event' && f.id) {
        const at = now();
        client.seen.set(f.id, (client.seen.get(f.id) ?? 0) + 1);
        if (!client.arrivedAt.has(f.id)) client.arrivedAt.set(f.id, at);
        if (f.data?.benchDueAt) client.latencies.push(at - f.data.benchDueAt);
      }
    });
    ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', topics })));
    ws.once('error', reject);
    ws.once('close', () => {
      client.closedEarly = true;
    });
  });
  return client;
}

/** Connects every client (in waves of `wave`, to spread the handshakes), round-robin over `urls`. */
export async function connectFleet(urls: string[], token: string, topicsOf: string[][], wave = 100) {
  const clients: FleetClient[] = [];
  for (let i = 0; i < topicsOf.length; i += wave) {
    const batch = topicsOf.slice(i, i + wave).map((topics, j) => {
      const base = urls[(i + j) % urls.length] as string;
      return connectOne(`${base.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`, topics);
    });
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

export async function closeFleet(clients: FleetClient[]): Promise<void> {
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === WebSocket.CLOSED) return resolve();
          c.ws.once('close', () => resolve());
          c.ws.close();
          setTimeout(() => {
            c.ws.terminate();
            resolve();
          }, 2_000).unref();
        }),
    ),
  );
}

export { now as benchClock };
