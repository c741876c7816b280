import { createEvent, genesysRoutingKeys, inboundType } from '@switchboard/contracts';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { agentDeskEvent, publishInbound, signedAgentDesk, signedWhatsApp, whatsappText } from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEV_GENESYS_INTEGRATION, genesysAgentText, signedGenesys } from '../fixtures/genesys.ts';

/**
 * A closed conversation is final (seed 000), yet an agent's reply written after the close must
 * still reach the customer: it lands on the conversation that follows, the customer's live one on
 * the same channel, opened for it when there is none, and that one carries the Genesys mapping.
 */
let p: Pipeline;
beforeEach(async () => {
  p = await startPipeline();
});
afterEach(async () => {
  await p.stop();
});

const CUSTOMER = '16315551181';
type Data = Record<string, unknown>;
const dataOf = (key: string) => p.events.ofKey(key).map((r) => r.event.data as Data);
const count = async (sql: string, params: unknown[] = []) => Number((await p.pool.query(sql, params)).rows[0].n);

async function customerWrites(id: string, n: number) {
  const res = await p.post('/webhooks/whatsapp', signedWhatsApp(whatsappText({ from: CUSTOMER, id, text: id })));
  expect(res.status).toBe(200);
  await expect.poll(() => dataOf('message.received').length, { timeout: 10_000 }).toBe(n);
  return dataOf('message.received')[n - 1]?.conversationId as string;
}

async function agentSays(id: string, n: number, conversationId = 'gc-close') {
  const reply = genesysAgentText({ id, to: CUSTOMER, text: id, conversationId });
  expect((await p.postWebhooks('/webhooks/genesys', signedGenesys(reply))).status).toBe(200);
  await expect.poll(() => dataOf('message.outbound.requested').length, { timeout: 10_000 }).toBe(n);
  return dataOf('message.outbound.requested')[n - 1] as Data;
}

async function close(conversationId: string, n: number) {
  const req = agentDeskEvent('conversation.close_requested', { conversationId, operatorId: 'op-1', reason: 'done' });
  expect((await p.postWebhooks('/webhooks/agent-desk', signedAgentDesk(req))).status).toBe(200);
  await expect
    .poll(() => dataOf('conversation.status.changed').filter((d) => d.status === 'closed').length, { timeout: 10_000 })
    .toBe(n);
}

const conversation = async (id: string) =>
  (
    await p.pool.query(
      'select status, customer_id, channel_id, genesys_conversation_id, agent_id from conversations where id = $1',
      [id],
    )
  ).rows[0];

describe('a Genesys agent reply after the conversation closed', () => {
  it('opens the next conversation for the customer on that channel, mapped to the Genesys conversation', async () => {
    const first = await customerWrites('wamid.c-1', 1);
    await agentSays('gm-c1', 1);
    await close(first, 1);

    const requested = await agentSays('gm-c2', 2);
    const second = requested.conversationId as string;
    expect(second).not.toBe(first);
    expect(requested).toMatchObject({ provider: 'whatsapp', to: CUSTOMER, text: 'gm-c2' });
    expect(dataOf('conversation.opened')).toEqual([
      expect.objectContaining({ conversationId: first }),
      expect.objectContaining({ conversationId: second, provider: 'whatsapp', status: 'open' }),
    ]);
    expect(dataOf('message.sent')[1]).toMatchObject({
      conversationId: second,
      genesysConversationId: 'gc-close',
      author: { kind: 'agent', id: 'agent-0001' },
    });
    // The first agent on the new conversation is announced as on any conversation.
    expect(dataOf('conversation.transferred').at(-1)).toMatchObject({ conversationId: second, previousAgentId: null });
    const [before, after] = [await conversation(first), await conversation(second)];
    expect(before).toMatchObject({ status: 'closed', genesys_conversation_id: 'gc-close' });
    expect(after).toMatchObject({
      status: 'open',
      customer_id: before.customer_id,
      channel_id: before.channel_id,
      genesys_conversation_id: 'gc-close',
      agent_id: 'agent-0001',
    });
    // Who opened it, in the status history.
    const history = await p.pool.query(
      'select status, source, changed_by from status_history where entity_id = $1 order by version',
      [second],
    );
    expect(history.rows).toEqual([{ status: 'open', source: 'agent', changed_by: 'agent-0001' }]);

    // The customer's answer lands there, and the mapping names it.
    expect(await customerWrites('wamid.c-2', 2)).toBe(second);
    expect(dataOf('message.received')[1]).toMatchObject({ genesysConversationId: 'gc-close' });
    const mapped = (await (await p.api('/conversations/by-genesys/gc-close')).json()) as Data;
    expect(mapped.id).toBe(second);
  });

  it("uses the customer's live conversation when they wrote again after the close", async () => {
    const first = await customerWrites('wamid.l-1', 1);
    await agentSays('gm-l1', 1);
    await close(first, 1);
    const live = await customerWrites('wamid.l-2', 2);
    expect(live).not.toBe(first);

    const requested = await agentSays('gm-l2', 2);
    expect(requested.conversationId).toBe(live);
    expect(dataOf('conversation.opened')).toHaveLength(2);
    expect(await count('select count(*) n from conversations')).toBe(2);
    expect(await conversation(live)).toMatchObject({ status: 'open', genesys_conversation_id: 'gc-close' });
  });

  it('finds the customer by recipient when the closed conversation was never mapped', async () => {
    const first = await customerWrites('wamid.r-1', 1);
    await close(first, 1);
    const requested = await agentSays('gm-r1', 1, 'gc-unmapped');
    expect(requested.conversationId).not.toBe(first);
    expect(await conversation(requested.conversationId as string)).toMatchObject({
      status: 'open',
      genesys_conversation_id: 'gc-unmapped',
    });
  });

  it('opens nothing for a reply it already stored, redelivered under another event id', async () => {
    const first = await customerWrites('wamid.d-1', 1);
    await close(first, 1);
    const requested = await agentSays('gm-d1', 1);
    await close(requested.conversationId as string, 2);
    const claims = await count('select count(*) n from inbox');

    const again = createEvent({
      source: '/test/genesys',
      type: inboundType(genesysRoutingKeys.agentMessage),
      data: {
        provider: 'genesys',
        accountId: DEV_GENESYS_INTEGRATION,
        messageId: 'gm-d1',
        genesysConversationId: 'gc-close',
        to: CUSTOMER,
        agentId: 'agent-0001',
        type: 'text',
        text: 'gm-d1',
        at: new Date().toISOString(),
        raw: {},
      },
    });
    await publishInbound(p.names.inbound, genesysRoutingKeys.agentMessage, again);
    await expect.poll(() => count('select count(*) n from inbox'), { timeout: 10_000 }).toBe(claims + 1);
    expect(await count('select count(*) n from conversations')).toBe(2);
    expect(await count(`select count(*) n from conversations where status <> 'closed'`)).toBe(0);
    expect(await count(`select count(*) n from outbox where routing_key = 'message.sent'`)).toBe(1);
  });
});
