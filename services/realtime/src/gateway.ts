import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Redis } from '@switchboard/platform';
import { WebSocketServer } from 'ws';
import { type Auth, AuthUnavailableError, type Tenant, tokenOf } from './auth.ts';
import { Connection, type ConnectionDeps } from './connection.ts';
import type { LiveEntry } from './event-log.ts';
import { Hub, offer } from './hub.ts';
import { type EventEnvelope, eventFrame } from './protocol.ts';
import { routeEvent } from './topics.ts';

export interface GatewayOptions extends Omit<ConnectionDeps, 'hub'> {
  auth: Auth;
  /** A Redis connection of the gateway's own: XREAD BLOCK holds it while it waits. */
  blocking: Redis;
  heartbeatMs: number;
}

/**
 * The WebSocket side of one replica: authenticates upgrades on `/ws`, keeps its clients in a
 * hub, tails the live stream (every replica reads every entry, each to its own clients) and pings
 * clients, dropping one that missed a pong.
 */
export class Gateway {
  readonly hub = new Hub();
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  readonly #connections = new Set<Connection>();
  #stopped = false;
  #tailing: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly opts: GatewayOptions) {}

  /** Open connections (a dropped one whose socket is still closing does not count). */
  get connections(): number {
    let n = 0;
    for (const c of this.#connections) if (!c.closed) n++;
    return n;
  }

  /** Starts tailing from the live stream's current end and takes upgrades from `server`. */
  async start(server: Server): Promise<void> {
    const from = await this.opts.log.liveHead();
    this.#tailing = this.#tail(from);
    server.on('upgrade', (req, socket, head) => {
      socket.on('error', () => socket.destroy());
      void this.#upgrade(req, socket, head);
    });
    this.#heartbeat = setInterval(() => this.#ping(), this.opts.heartbeatMs);
  }

  /** Closes every client (1001: they reconnect elsewhere and resume), then stops tailing. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    for (const c of this.#connections) c.drop('shutdown');
    this.opts.blocking.disconnect();
    await this.#tailing;
    this.#wss.close();
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/ws') return refuse(socket, 404, 'Not Found');
    const token = tokenOf(req.headers, url);
    let tenant: Tenant | null = null;
    try {
      tenant = token ? await this.opts.auth.authenticate(token) : null;
    } catch (err) {
      // Whatever went wrong checking it, the client is told to come back, and the replica lives.
      this.opts.logger.warn({ err, unavailable: err instanceof AuthUnavailableError }, 'cannot check a token');
      return refuse(socket, 503, 'Service Unavailable');
    }
    if (!tenant || this.#stopped) {
      this.opts.metrics.authFailures.inc({ reason: token ? 'invalid_token' : 'missing_token' });
      return refuse(socket, this.#stopped ? 503 : 401, this.#stopped ? 'Service Unavailable' : 'Unauthorized');
    }
    const who = tenant;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new Connection(ws, who, { ...this.opts, hub: this.hub });
      this.#connections.add(conn);
      ws.on('close', () => this.#connections.delete(conn));
    });
  }

  #ping(): void {
    for (const c of this.#connections) {
      if (!c.alive) {
        c.drop('heartbeat');
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  async #tail(from: string): Promise<void> {
    let after = from;
    while (!this.#stopped) {
      try {
        const entries = await this.opts.log.readLive(this.opts.blocking, after, 5_000);
        for (const e of entries) this.#deliver(e);
        after = entries.at(-1)?.liveId ?? after;
      } catch (err) {
        if (this.#stopped) return;
        this.opts.logger.warn({ err }, 'live stream read failed, retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  #deliver(e: LiveEntry): void {
    const ce = JSON.parse(e.json) as EventEnvelope;
    const routed = routeEvent(ce.type, ce.data);
    if (!routed) return;
    const audience = this.hub.audience(e.tenantId, routed.topics);
    if (audience.size === 0) return;
    // Serialized once, whatever the audience's size.
    const f = { seq: e.seq, frame: eventFrame(e.seq, ce, routed), receivedAt: e.receivedAt };
    for (const client of audience) offer(client, f);
  }
}

const ERROR_CODES: Record<number, string> = { 401: 'unauthorized', 404: 'not_found', 503: 'unavailable' };

/** A refused upgrade answers the one Error shape every HTTP route answers (openapi.yaml). */
function refuse(socket: Duplex, status: number, text: string): void {
  const code = ERROR_CODES[status] ?? 'internal';
  const body = JSON.stringify({ error: code, message: `WebSocket upgrade refused: ${text}` });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
