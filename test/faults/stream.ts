import { setTimeout as sleep } from 'node:timers/promises';
import {
  helpdeskEvent,
  signedHelpdesk,
  signedWhatsApp,
  statusFixtures,
  whatsappFixturePayload,
  whatsappText,
} from '@switchboard/testing';

/** One webhook of the stream: where it goes, and its request (signed afresh at each attempt). */
export interface Webhook {
  kind: 'message' | 'status' | 'ticket';
  /** What its effect is keyed by: a wamid, `<wamid>/delivered`, a ticket id. */
  key: string;
  edge: 'ingest' | 'webhooks';
  path: string;
  request: () => { body: string; headers: Record<string, string> };
}

export const customerPhone = (i: number) => `1631777${String(1000 + i).padStart(4, '0')}`;

export const messageHook = (tag: string, customer: number, n: number): Webhook => {
  const id = `wamid.${tag}-${customer}-${n}`;
  return {
    kind: 'message',
    key: id,
    edge: 'ingest',
    path: '/webhooks/whatsapp',
    request: () => signedWhatsApp(whatsappText({ from: customerPhone(customer), id, text: `m${n}` })),
  };
};

const deliveredHook = (wamid: string): Webhook => ({
  kind: 'status',
  key: `${wamid}/delivered`,
  edge: 'ingest',
  path: '/webhooks/whatsapp',
  request: () => signedWhatsApp(whatsappFixturePayload(statusFixtures.delivered.value(wamid))),
});

const ticketHook = (ticketId: string, conversationId: string): Webhook => ({
  kind: 'ticket',
  key: ticketId,
  edge: 'webhooks',
  path: '/webhooks/helpdesk',
  request: () =>
    signedHelpdesk(helpdeskEvent('ticket.created', { ticketId, conversationId, subject: `about ${ticketId}` })),
});

/**
 * The mixed stream: `perCustomer` messages from each customer, a `delivered` status for every
 * third message (sent a little after it, so most find their message and some are held until it
 * lands), and two helpdesk tickets per existing conversation, interleaved.
 */
export function mixedStream(tag: string, conversations: string[], perCustomer: number): Webhook[] {
  const out: Webhook[] = [];
  const statuses: Webhook[] = [];
  const tickets = conversations.flatMap((c, i) => [ticketHook(`${tag}-T${i}a`, c), ticketHook(`${tag}-T${i}b`, c)]);
  for (let n = 0; n < perCustomer; n++) {
    for (let c = 0; c < conversations.length; c++) {
      const m = messageHook(tag, c, n);
      out.push(m);
      if (out.length % 3 === 0) statuses.push(deliveredHook(m.key));
      if (statuses.length > 8) out.push(statuses.shift() as Webhook);
      if (out.length % 7 === 0 && tickets.length > 0) out.push(tickets.shift() as Webhook);
    }
  }
  return [...out, ...statuses, ...tickets];
}

export type Edges = Record<Webhook['edge'], string[]>;
export interface Delivery {
  hook: Webhook;
  /** The status of the last attempt (0: no answer, connection refused or reset). */
  status: number;
  attempts: number;
}

/**
 * Delivers every webhook, `concurrency` at a time, as a provider behind a load balancer would:
 * replicas in turn, and on no answer or a 5xx the next replica, up to `maxAttempts` (a 4xx is an
 * answer: not retried). Accepted means some attempt got a 2xx.
 */
export async function deliver(
  hooks: Webhook[],
  edges: Edges,
  concurrency: number,
  maxAttempts = 6,
  maxBackoffMs = 500,
) {
  const results: Delivery[] = [];
  let next = 0;
  const worker = async () => {
    while (next < hooks.length) {
      const i = next++;
      const hook = hooks[i] as Webhook;
      const replicas = edges[hook.edge];
      let status = 0;
      let attempts = 0;
      while (attempts < maxAttempts && (status === 0 || status >= 500)) {
        const url = replicas[(i + attempts) % replicas.length] as string;
        if (attempts > 0) await sleep(Math.min(20 * attempts, maxBackoffMs)); // a provider's retry backoff, not a wait for state
        attempts++;
        const req = hook.request();
        status = await fetch(`${url}${hook.path}`, {
          method: 'POST',
          body: req.body,
          headers: req.headers,
          signal: AbortSignal.timeout(10_000),
        })
          .then((r) => r.status)
          .catch(() => 0);
      }
      results.push({ hook, status, attempts });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

export const acceptedKeys = (results: Delivery[], kind: Webhook['kind']) =>
  results.filter((r) => r.hook.kind === kind && r.status >= 200 && r.status < 300).map((r) => r.hook.key);
