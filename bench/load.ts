import http from 'node:http';
import { signHmacSha256 } from '@switchboard/platform';
import { DEV_WHATSAPP_SECRET, whatsappText } from '@switchboard/testing';

/** A WhatsApp text webhook, signed ahead of time so signing costs nothing while measuring. */
export interface SignedWebhook {
  id: string;
  body: Buffer;
  signature: string;
}

/** `count` one-message webhooks with unique wamids `<prefix>-<i>`, spread over `customers` senders. */
export function signWebhooks(
  prefix: string,
  count: number,
  customers: number,
  secret = DEV_WHATSAPP_SECRET,
): SignedWebhook[] {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${i}`;
    const from = benchSender(i, customers);
    const body = JSON.stringify(whatsappText({ from, id, text: `Bench message ${i}`, timestamp: now }));
    return { id, body: Buffer.from(body), signature: signHmacSha256(body, secret, 'hex') };
  });
}

/** The sender of webhook `i`: +1 631 555 xxxx, then +1 631 556 xxxx and on past 9,000 senders. */
export function benchSender(i: number, customers: number): string {
  const n = 1000 + (i % customers);
  return `1631${555 + Math.floor(n / 10_000)}${String(n % 10_000).padStart(4, '0')}`;
}

/** What the load generator saw per webhook: when it was due, when it was answered, and how. */
export interface Sent {
  /** performance.now() at which the POST was due (open loop) or started (closed loop). */
  start: Float64Array;
  answered: Float64Array;
  /** HTTP status; 0 for a transport failure. */
  status: Uint16Array;
}

const newSent = (n: number): Sent => ({
  start: new Float64Array(n),
  answered: new Float64Array(n),
  status: new Uint16Array(n),
});

/** node:http with a keep-alive agent: fetch costs too much CPU per request to drive a load. */
export class WebhookClient {
  readonly #agent: http.Agent;
  readonly #url: URL;
  /**
   * Every answer that was not a 2xx, by kind: `HTTP <status>` (with the `retry-after` it carried,
   * if any) or the transport error's code (`ECONNRESET`, ...), so a run's errors say what the
   * sender saw rather than only how many.
   */
  readonly failures = new Map<string, number>();

  constructor(baseUrl: string, maxSockets: number) {
    this.#url = new URL('/webhooks/whatsapp', baseUrl);
    this.#agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  #failed(kind: string): void {
    this.failures.set(kind, (this.failures.get(kind) ?? 0) + 1);
  }

  post(w: SignedWebhook): Promise<number> {
    return new Promise((resolve) => {
      const req = http.request(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: {
            'content-type': 'application/json',
            'content-length': w.body.length,
            'x-hub-signature-256': w.signature,
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const retryAfter = res.headers['retry-after'];
            this.#failed(`HTTP ${status}${retryAfter === undefined ? '' : ` (retry-after ${retryAfter})`}`);
          }
          res.resume();
          res.on('end', () => resolve(status));
          res.on('error', (err: NodeJS.ErrnoException) => {
            this.#failed(`response ${err.code ?? err.message}`);
            resolve(0);
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        this.#failed(`${err.code ?? err.message}${req.reusedSocket ? ' (reused keep-alive socket)' : ''}`);
        resolve(0);
      });
      req.end(w.body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Closed loop: `concurrency` webhooks in flight, the next one sent as soon as one is answered. */
export async function closedLoop(client: WebhookClient, webhooks: SignedWebhook[], concurrency: number) {
  const sent = newSent(webhooks.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < webhooks.length; i = next++) {
      sent.start[i] = performance.now();
      sent.status[i] = await client.post(webhooks[i] as SignedWebhook);
      sent.answered[i] = performance.now();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, webhooks.length) }, worker));
  return sent;
}

/**
 * Open loop: webhook i is due at t0 + i/rate, whatever happened to the earlier ones, so a slow
 * answer cannot lower the offered load. Latency counts from the due time, so time a request
 * spent waiting to be sent (a late timer, a busy event loop) is charged to it, not hidden.
 */
export async function openLoop(client: WebhookClient, webhooks: SignedWebhook[], rate: number) {
  const sent = newSent(webhooks.length);
  const interval = 1000 / rate;
  const t0 = performance.now() + 20;
  const pending: Promise<void>[] = [];
  let i = 0;
  await new Promise<void>((finish) => {
    const tick = () => {
      const now = performance.now();
      for (; i < webhooks.length && t0 + i * interval <= now; i++) {
        const n = i;
        sent.start[n] = t0 + n * interval;
        pending.push(
          client.post(webhooks[n] as SignedWebhook).then((status) => {
            sent.status[n] = status;
            sent.answered[n] = performance.now();
          }),
        );
      }
      if (i >= webhooks.length) return finish();
      setTimeout(tick, Math.max(0, t0 + i * interval - performance.now()));
    };
    tick();
  });
  await Promise.all(pending);
  return sent;
}
