import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Redis } from '@switchboard/platform';
import { WebSocketServer } from 'ws';
import { type Auth, AuthUnavailableError, type Tenant, tokenOf } from './auth.ts';
import { Connection, type ConnectionDeps } from './connection.ts';
import { parsePublished } from './event-log.ts';
import { type Frame, Hub, offer } from './hub.ts';
import { LiveFeed } from './live-feed.ts';
import { type EventEnvelope, eventFrame } from './protocol.ts';
import { routeEvent } from './topics.ts';

export interface GatewayOptions extends Omit<ConnectionDeps, 'hub' | 'feed'> {
  auth: Auth;
  /** A Redis connection of the gateway's own, in subscriber mode for the live feed. */
  subscriber: Redis;
  /** The Redis key prefix: pub/sub channel names carry it by hand. */
  keyPrefix: string;
  heartbeatMs: number;
}

/**
 * The WebSocket side of one replica: authenticates upgrades on `/ws`, keeps its clients in a
 * hub, takes the live feed of the topics its clients subscribe to (and only those) and pings
 * clients, dropping one that missed a pong. Each heartbeat also checks the tokens the open
 * connections came with, so an expired browser token or a revoked read-API token stops
 * streaming within a heartbeat (4001), not only at the next connect.
 */
export class Gateway {
  readonly hub = new Hub();
  readonly feed: LiveFeed;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  /** Each open connection and the token it opened with. */
  readonly #connections = new Map<Connection, string>();
  #stopped = false;
  #checkingTokens = false;
  #heartbeat: NodeJS.Timeout | undefined;
  /** The last event's frame: one event comes on each of its topics' channels, in a row. */
  #last: { tenantId: string; seq: string; frame: Frame | undefined } | undefined;

  constructor(private readonly opts: GatewayOptions) {
    this.feed = new LiveFeed(opts.subscriber, opts.keyPrefix, {
      onMessage: (tenantId, topic, message) => this.#deliver(tenantId, topic, message),
      onInterrupted: () => this.#interrupted(),
    });
  }

  /** Open connections (a dropped one whose socket is still closing does not count). */
  get connections(): number {
    let n = 0;
    for (const c of this.#connections.keys()) if (!c.closed) n++;
    return n;
  }

  /** Takes upgrades from `server`. */
  async start(server: Server): Promise<void> {
    server.on('upgrade', (req, socket, head) => {
      socket.on('error', () => socket.destroy());
      void this.#upgrade(req, socket, head);
    });
    this.#heartbeat = setInterval(() => this.#ping(), this.opts.heartbeatMs);
  }

  /** Closes every client (1001: they reconnect elsewhere and resume), then leaves the live feed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    for (const c of this.#connections.keys()) c.drop('shutdown');
    this.feed.stop();
    this.#wss.close();
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/ws') return refuse(socket, 404, 'Not Found');
    const token = tokenOf(req.headers, url);
    if (!token) {
      this.opts.metrics.authFailures.inc({ reason: 'missing_token' });
      return refuse(socket, 401, 'Unauthorized');
    }
    let tenant: Tenant | null = null;
    try {
      tenant = await this.opts.auth.authenticate(token);
    } catch (err) {
      // Whatever went wrong checking it, the client is told to come back, and the replica lives.
      this.opts.logger.warn({ err, unavailable: err instanceof AuthUnavailableError }, 'cannot check a token');
      return refuse(socket, 503, 'Service Unavailable');
    }
    if (!tenant || this.#stopped) {
      if (!tenant) this.opts.metrics.authFailures.inc({ reason: 'invalid_token' });
      return refuse(socket, this.#stopped ? 503 : 401, this.#stopped ? 'Service Unavailable' : 'Unauthorized');
    }
    const who = tenant;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new Connection(ws, who, { ...this.opts, hub: this.hub, feed: this.feed });
      this.#connections.set(conn, token);
      ws.on('close', () => this.#connections.delete(conn));
    });
  }

  #ping(): void {
    for (const c of this.#connections.keys()) {
      if (!c.alive) {
        c.drop('heartbeat');
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
    void this.#checkTokens();
  }

  /**
   * Asks again about every distinct token of the open connections (a browser token is checked
   * locally; a read-API token costs at most one read-API call per API_TOKEN_CACHE_TTL_MS) and
   * drops the connections of one no longer valid. A read API that cannot answer drops nobody: an
   * outage there must not cut every console off.
   */
  async #checkTokens(): Promise<void> {
    if (this.#checkingTokens) return;
    this.#checkingTokens = true;
    try {
      const byToken = new Map<string, Connection[]>();
      for (const [c, token] of this.#connections) {
        if (c.closed) continue;
        const same = byToken.get(token);
        if (same) same.push(c);
        else byToken.set(token, [c]);
      }
      for (const [token, conns] of byToken) {
        const valid = await this.opts.auth.authenticate(token).then(
          (t) => t !== null && conns.every((c) => c.tenantId === t.tenantId),
          () => true,
        );
        if (valid) continue;
        this.opts.metrics.authFailures.inc({ reason: 'token_no_longer_valid' });
        for (const c of conns) c.drop('unauthorized');
      }
    } finally {
      this.#checkingTokens = false;
    }
  }

  /** Events published while the feed was down are lost to it: every client resumes from the log. */
  #interrupted(): void {
    this.opts.logger.warn('live feed connection lost: closing clients so they resume from the replay log');
    for (const c of this.#connections.keys()) c.drop('resync');
  }

  #deliver(tenantId: string, topic: string, message: string): void {
    this.opts.metrics.liveMessages.inc();
    const clients = this.hub.subscribers(tenantId, topic);
    if (clients.length === 0) return;
    const f = this.#frameOf(tenantId, message);
    if (!f) return;
    // A client on two of the event's topics gets it once: the second offer is at its cursor.
    for (const client of clients) offer(client, f);
  }

  /** Parsed and serialized once per event, whatever the number of its channels and clients. */
  #frameOf(tenantId: string, message: string): Frame | undefined {
    const seq = message.slice(0, message.indexOf(' '));
    if (this.#last?.tenantId === tenantId && this.#last.seq === seq) return this.#last.frame;
    const e = parsePublished(tenantId, message);
    const ce = JSON.parse(e.json) as EventEnvelope;
    const routed = routeEvent(ce.type, ce.data);
    const frame = routed && { seq: e.seq, frame: eventFrame(e.seq, ce, routed), receivedAt: e.receivedAt };
    this.#last = { tenantId, seq, frame };
    return frame;
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
