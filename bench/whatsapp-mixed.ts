import { signHmacSha256 } from '@switchboard/platform';
import { DEV_WHATSAPP_SECRET, whatsappFixturePayload, whatsappFixtures } from '@switchboard/testing';
import type { Scenario } from './context.ts';
import { benchSender, closedLoop, type SignedWebhook } from './load.ts';
import { drive } from './pipeline.ts';

/**
 * Webhooks cycling through every documented WhatsApp message shape (text, media with
 * `media.download.requested`, reactions, replies, locations, contacts, orders, system…), each
 * with a fresh wamid, spread over the bench's senders: webhook throughput with mixed types.
 */
export function signMixedWebhooks(prefix: string, count: number, customers: number): SignedWebhook[] {
  const now = String(Math.floor(Date.now() / 1000));
  return Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${i}`;
    const from = benchSender(i, customers);
    const fixture = whatsappFixtures[i % whatsappFixtures.length] as (typeof whatsappFixtures)[number];
    const [original] = fixture.value.messages as Array<Record<string, unknown>>;
    const message = { ...original, id, from, timestamp: now };
    const body = JSON.stringify(
      whatsappFixturePayload({ contacts: [{ profile: { name: 'Bench' }, wa_id: from }], messages: [message] }),
    );
    return { id, body: Buffer.from(body), signature: signHmacSha256(body, DEV_WHATSAPP_SECRET, 'hex') };
  });
}

export const whatsappMixedScenario: Scenario = {
  name: 'whatsapp-mixed',
  description: `signed webhooks cycling through ${whatsappFixtures.length} WhatsApp message shapes → message.received, max throughput`,
  run: async (ctx) => {
    const { messages, concurrency } = ctx.options;
    const p = await ctx.pipeline('all');
    const run = await drive(
      p,
      ctx.env,
      `wamid.bench-${ctx.env.runId}-mixed`,
      messages,
      (client, w) => closedLoop(client, w, concurrency),
      { sign: signMixedWebhooks },
    );
    return {
      scenario: 'whatsapp-mixed',
      description: 'mixed WhatsApp message types, max throughput',
      offeredRate: null,
      ...run,
      notes: [
        `${concurrency} webhooks in flight; ${whatsappFixtures.length} shapes in turn, a third of them with media`,
      ],
    };
  },
};
