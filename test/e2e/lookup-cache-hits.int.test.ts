import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { signedWhatsApp, whatsappText } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The lookup cache survives writes: one tenant ingests messages from a few customers while the
 * read API's lookups of all its customers repeat. A write invalidates only the keys of what it
 * touched, so the other customers' answers stay cached (the hit ratio stays above 90%), and a
 * lookup of a customer just written is never answered from before the write.
 */
const CUSTOMERS = 30;
const WRITTEN = 2;
const ROUNDS = 8;
const phone = (i: number) => `1631555${String(2000 + i).padStart(4, '0')}`;

type Json = Record<string, unknown>;
let p: Pipeline;
const conversations: string[] = [];
const customers: string[] = [];

const consumed = async () =>
  (await p.worker?.metrics.consumer.consumed.get())?.values
    .filter((v) => v.labels.outcome === 'done')
    .reduce((s, v) => s + v.value, 0) ?? 0;
const cacheCount = async (result: string) =>
  (await p.worker?.metrics.lookupCache.get())?.values.find((v) => v.labels.result === result)?.value ?? 0;
const get = async (path: string) => {
  const res = await p.api(path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as Json;
};
let seq = 0;
/** One message from each of these customers, in one webhook; resolves once the worker settled it. */
async function ingest(indexes: number[]) {
  const before = await consumed();
  const ids = indexes.map((i) => ({ from: phone(i), id: `wamid.hits-${++seq}`, text: `message ${seq}` }));
  expect((await p.post('/webhooks/whatsapp', signedWhatsApp(whatsappText(...ids)))).status).toBe(200);
  // Settled means committed and invalidated (the consumer settles after the batch handler returns).
  await expect.poll(consumed, { timeout: 20_000, interval: 50 }).toBeGreaterThanOrEqual(before + ids.length);
  return ids.map((m) => m.id);
}
/** Every lookup a portal makes of customer `i`. */
const lookupsOf = (i: number) => [
  `/conversations/${conversations[i]}`,
  `/conversations/by-whatsapp/${phone(i)}`,
  `/conversations/${conversations[i]}/messages?limit=5`,
  `/customers/${customers[i]}`,
  `/customers?phone=%2B${phone(i)}`,
];

beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  await p.stop();
});

describe('a busy tenant', () => {
  it('keeps a hit ratio above 90% while it ingests, and never answers a changed entity from before the change', async () => {
    await ingest(Array.from({ length: CUSTOMERS }, (_, i) => i));
    for (let i = 0; i < CUSTOMERS; i++) {
      const c = await get(`/conversations/by-whatsapp/${phone(i)}`);
      conversations.push(c.id as string);
      customers.push((c.customer as Json).id as string);
    }
    // Warm: every lookup once.
    for (let i = 0; i < CUSTOMERS; i++) for (const path of lookupsOf(i)) await get(path);
    const start = { hit: await cacheCount('hit'), miss: await cacheCount('miss') };

    for (let round = 0; round < ROUNDS; round++) {
      const written = Array.from({ length: WRITTEN }, (_, k) => (round * WRITTEN + k) % CUSTOMERS);
      const wamids = await ingest(written);
      for (let i = 0; i < CUSTOMERS; i++) for (const path of lookupsOf(i)) await get(path);
      // The customers just written: their history and profile show the new message at once.
      for (const [k, i] of written.entries()) {
        const page = await get(`/conversations/${conversations[i]}/messages?limit=1`);
        expect((page.messages as Json[])[0]?.providerMessageId).toBe(wamids[k]);
        const byWa = await get(`/conversations/by-whatsapp/${phone(i)}`);
        const conversation = await get(`/conversations/${conversations[i]}`);
        expect(byWa.lastActivityAt).toBe(conversation.lastActivityAt);
        const profile = await get(`/customers/${customers[i]}`);
        const counted = (profile.conversations as Json[]).find((c) => c.id === conversations[i])?.messages;
        const stored = await p.pool.query('select count(*)::int as n from messages where conversation_id = $1', [
          conversations[i],
        ]);
        expect(counted).toBe(stored.rows[0]?.n);
      }
    }

    const hits = (await cacheCount('hit')) - start.hit;
    const misses = (await cacheCount('miss')) - start.miss;
    // Each round's writes touch its two customers' conversation, profile and WhatsApp keys: at
    // most their 4 lookups miss, and the freshness check's first page; the 28 others' are all hits.
    expect(misses).toBeLessThanOrEqual(ROUNDS * WRITTEN * 5);
    expect(hits / (hits + misses)).toBeGreaterThan(0.9);
  });
});
