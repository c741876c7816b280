import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Client, connectClient, startGatewayKit, TENANT_A, urlOf } from './test-kit.ts';

type Kit = Awaited<ReturnType<typeof startGatewayKit>>;
let kit: Kit;
let client: Client | undefined;
beforeEach(async () => {
  kit = await startGatewayKit();
});
afterEach(async () => {
  await client?.close();
  await kit.stop();
});

const received = (conversationId: string, customerId: string, text: string) => ({
  messageId: randomUUID(),
  conversationId,
  customerId,
  provider: 'whatsapp',
  providerMessageId: `wamid.${randomUUID()}`,
  type: 'text',
  text,
  sentAt: new Date().toISOString(),
});

it("customer.erased takes the customer's events out of the replay log, and a resume from one of them reloads", async () => {
  const r = await kit.replica();
  const [erased, kept, customer, other] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const first = await kit.publish(
    TENANT_A.tenantId,
    'message.received',
    received(erased, customer, 'my secret address'),
  );
  await kit.publish(TENANT_A.tenantId, 'message.received', received(erased, customer, 'my phone is 555 0100'));
  await kit.publish(TENANT_A.tenantId, 'message.received', received(kept, other, 'someone else'));
  const texts = async () => (await r.log.kept(TENANT_A.tenantId)).map((e) => JSON.parse(e.json).data.text);
  await expect.poll(texts, { timeout: 10_000 }).toHaveLength(3);

  const erasure = await kit.publish(TENANT_A.tenantId, 'customer.erased', {
    customerId: customer,
    conversationIds: [erased],
    erasedAt: new Date().toISOString(),
  });
  await expect.poll(texts, { timeout: 10_000 }).toEqual(['someone else']);
  // A redelivery changes nothing; the erasure itself is not pushed to anyone.
  await kit.republish('customer.erased', erasure);
  const skipped = async () =>
    (await r.metrics.consumer.consumed.get()).values.find((v) => v.labels.outcome === 'skipped')?.value ?? 0;
  await expect.poll(skipped, { timeout: 10_000 }).toBe(1);
  expect(await texts()).toEqual(['someone else']);

  client = await connectClient(urlOf(r), TENANT_A.token);
  const answer = await client.subscribe([`conversation:${erased}`], { lastEventId: first.id });
  expect(answer.type).toBe('reload');
});
