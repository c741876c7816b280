import { issueApiToken, schema, seedTenant, transaction } from '@switchboard/db';
import { TOKEN_SCOPES } from '@switchboard/domain';
import { emailReplyHeaders, outboundMessageIdHeader, recordOutboundEmail } from '@switchboard/sync-worker';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  DEV_MAILGUN_DOMAIN,
  DEV_MAILGUN_SIGNING_KEY,
  deliveredEventData,
  engagementEventData,
  failedPermanentEventData,
  INBOUND_MIME,
  inboundFields,
  inboundMultipart,
  inboundUrlencoded,
  mailgunEventBody,
  mailgunSignature,
} from '@switchboard/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ env: { API_TOKEN_CACHE_TTL_MS: '0' } });
});
afterAll(async () => {
  await p.stop();
});

const SALES = `sales@${DEV_MAILGUN_DOMAIN}`;
const count = async (q: string, params: unknown[] = []) =>
  Number((await p.pool.query<{ n: string }>(q, params)).rows[0]?.n);
const conversationOf = async (messageIdHeader: string) =>
  (
    await p.pool.query<{ conversation_id: string }>(
      'select conversation_id from messages where provider = $1 and provider_message_id = $2',
      ['mailgun', messageIdHeader],
    )
  ).rows[0]?.conversation_id;
const stored = (id: string) => expect.poll(() => conversationOf(id), { timeout: 15_000 }).toBeDefined();

let seq = 0;
/** A campaign email we sent through Mailgun, reported by an event of `kind` (the real payload shape). */
function campaignEvent(kind: string, lead: string, messageId: string, over: Record<string, unknown> = {}) {
  seq += 1;
  const base = kind === 'delivered' ? deliveredEventData() : engagementEventData(kind);
  return {
    ...base,
    id: `evt-${kind}-${seq}-${Date.now()}`,
    timestamp: Date.now() / 1000,
    recipient: lead,
    envelope: { sender: SALES, transport: 'smtp', targets: lead },
    message: { headers: { to: lead, 'message-id': messageId, from: SALES, subject: 'Your new car offer' } },
    ...over,
  };
}

/** The lead's reply, as a route's forward() (anymail's field shape, our addresses and headers). */
function reply(
  from: string,
  messageId: string,
  text: string,
  headers: Record<string, string>,
  subject = 'Re: Your new car offer',
) {
  return inboundUrlencoded(
    inboundFields({
      recipient: SALES,
      sender: from,
      from,
      subject,
      'Message-Id': `<${messageId}>`,
      'body-plain': `${text}\n\n> quoted`,
      'stripped-text': text,
      'message-headers': JSON.stringify([['Date', new Date().toUTCString()]]),
      ...headers,
    }),
  );
}

const postEvent = (data: unknown, sig = mailgunSignature()) =>
  p.post('/webhooks/mailgun/events', mailgunEventBody(data, sig));
const postInbound = (req: { body: string; headers: Record<string, string> }) =>
  p.post('/webhooks/mailgun/inbound', req);

describe('an email lead, end to end through the real webhooks', () => {
  const lead = 'lead.one@customer.test';
  const campaign = 'campaign-1@mg.example.com';
  let conversationId: string;

  it('delivered → ACTIVE, opened → engagement, three replies → ENGAGED and stages, qualification and handover', async () => {
    expect((await postEvent(campaignEvent('delivered', lead, `<${campaign}>`))).status).toBe(200);
    await stored(campaign);
    conversationId = (await conversationOf(campaign)) as string;
    await expect
      .poll(() => p.events.ofKey('conversation.state.changed').filter((e) => e.event.subject === conversationId).length)
      .toBe(1);
    expect((await postEvent(campaignEvent('opened', lead, campaign))).status).toBe(200);
    await expect
      .poll(() => count('select open_count as n from lead_journeys where conversation_id = $1', [conversationId]))
      .toBe(1);

    const r1 = 'r1@customer.test';
    const r2 = 'r2@customer.test';
    const r3 = 'r3@customer.test';
    expect(
      (
        await postInbound(
          reply(lead, r1, 'Thanks for reaching out.', { 'In-Reply-To': `<${campaign}>`, References: `<${campaign}>` }),
        )
      ).status,
    ).toBe(200);
    await stored(r1);
    expect(
      (
        await postInbound(
          reply(lead, r2, "I'm interested, tell me more about the options.", {
            'In-Reply-To': `<${r1}>`,
            References: `<${campaign}> <${r1}>`,
          }),
        )
      ).status,
    ).toBe(200);
    await stored(r2);
    // An Outlook reply: In-Reply-To only, and "AW:" in the subject.
    expect(
      (
        await postInbound(
          reply(
            lead,
            r3,
            'What is the price? Can we book a test drive?',
            { 'In-Reply-To': `<${r2}>` },
            'AW: Your new car offer',
          ),
        )
      ).status,
    ).toBe(200);
    await stored(r3);
    for (const id of [r1, r2, r3]) expect(await conversationOf(id)).toBe(conversationId);

    // validate-transition changes nothing.
    const v = await p.api(`/conversations/${conversationId}/validate-transition`, {
      method: 'POST',
      body: { event: 'HUMAN_AGENT_ASSIGNED', triggeredBy: 'user-1' },
    });
    expect(await v.json()).toMatchObject({
      state: 'ENGAGED',
      allowed: false,
      decision: 'reject',
      reason: 'illegal_transition',
    });
    const ok = await p.api(`/conversations/${conversationId}/validate-transition`, {
      method: 'POST',
      body: { event: 'QUALIFICATION_CRITERIA_MET', triggeredBy: 'user-1', criteria: ['purchase_intent_expressed'] },
    });
    expect(await ok.json()).toMatchObject({
      allowed: true,
      to: 'QUALIFIED',
      rules: [
        { rule: 'qualification_criteria', passed: true },
        { rule: 'engagement_threshold', passed: true },
      ],
    });
    expect(
      await count('select count(*) as n from lead_transitions where conversation_id = $1 and to_value = $2', [
        conversationId,
        'QUALIFIED',
      ]),
    ).toBe(0);

    const transition = (body: Record<string, unknown>) =>
      p.api(`/conversations/${conversationId}/transition`, {
        method: 'POST',
        body: { triggeredBy: 'user-1', ...body },
      });
    expect((await transition({ event: 'HUMAN_AGENT_ASSIGNED' })).status).toBe(409);
    // Seed 003's body: the reason in `metadata`, which counts as the criterion and is kept.
    const qualify = {
      event: 'QUALIFICATION_CRITERIA_MET',
      metadata: { qualificationReason: 'purchase_intent_expressed', campaign: 'spring' },
    };
    expect((await transition(qualify)).status).toBe(200);
    expect((await transition({ event: 'HANDOVER_REQUESTED' })).status).toBe(200);
    const noAgent = await transition({ event: 'HUMAN_AGENT_ASSIGNED' });
    expect(noAgent.status).toBe(422);
    expect(((await noAgent.json()) as { message: string }).message).toContain('agent_assignment');
    expect((await transition({ event: 'HUMAN_AGENT_ASSIGNED', agentId: 'agent-7' })).status).toBe(200);

    const journey = (await (await p.api(`/conversations/${conversationId}/lead-journey`)).json()) as Record<
      string,
      unknown
    >;
    expect(journey).toMatchObject({
      state: 'HANDED_OVER',
      stage: 'handover_ready',
      progress: 100,
      agentId: 'agent-7',
      counters: { outboundCount: 1, inboundCount: 3, openCount: 1, interestSignals: 1, purchaseSignals: 1 },
      engagementScore: 65,
      qualificationScore: 50,
    });
    expect((journey.milestones as Array<{ milestone: string }>).map((m) => m.milestone)).toEqual([
      'FIRST_CONTACT',
      'FIRST_RESPONSE',
      'MULTIPLE_EXCHANGES',
      'INTENT_SIGNAL',
      'QUALIFICATION_COMPLETE',
      'HANDOVER_READY',
    ]);

    const mine = (key: string) =>
      p.events
        .ofKey(key)
        .filter((e) => e.event.subject === conversationId)
        .map((e) => e.event.data as Record<string, unknown>);
    await expect.poll(() => mine('conversation.state.changed').length, { timeout: 10_000 }).toBe(5);
    expect(mine('conversation.state.changed').map((d) => [d.previousState, d.state, d.event])).toEqual([
      ['NEW', 'ACTIVE', 'FIRST_EMAIL_SENT'],
      ['ACTIVE', 'ENGAGED', 'LEAD_REPLIED'],
      ['ENGAGED', 'QUALIFIED', 'QUALIFICATION_CRITERIA_MET'],
      ['QUALIFIED', 'READY_FOR_HANDOVER', 'HANDOVER_REQUESTED'],
      ['READY_FOR_HANDOVER', 'HANDED_OVER', 'HUMAN_AGENT_ASSIGNED'],
    ]);
    expect(mine('conversation.state.changed')[2]).toMatchObject({ metadata: qualify.metadata });
    expect(journey.history).toContainEqual(
      expect.objectContaining({ kind: 'state', to_value: 'QUALIFIED', metadata: qualify.metadata }),
    );
    expect(mine('conversation.state.changed')[3]).toMatchObject({ handover: { status: 'requested' } });
    expect(mine('conversation.state.changed')[4]).toMatchObject({
      handover: { status: 'assigned', agentId: 'agent-7' },
    });
    await expect.poll(() => mine('lead.stage.changed').length).toBe(4);
    expect(mine('lead.stage.changed').map((d) => [d.stage, d.progress])).toEqual([
      ['responding', 25],
      ['interested', 65],
      ['qualified', 85],
      ['handover_ready', 100],
    ]);
    expect(mine('message.status.changed').map((d) => d.status)).toEqual(['delivered', 'read']);
    expect(mine('message.received')).toHaveLength(3);

    // The thread tree: campaign → r1 → r2 → r3.
    const tree = (await (await p.api(`/conversations/${conversationId}/thread-tree`)).json()) as {
      roots: Array<{ messageIdHeader: string; children: unknown[] }>;
    };
    const path: string[] = [];
    for (
      let n = tree.roots[0] as { messageIdHeader: string; children: unknown[] } | undefined;
      n;
      n = n.children[0] as typeof n
    )
      path.push(n.messageIdHeader);
    expect(tree.roots).toHaveLength(1);
    expect(path).toEqual([campaign, r1, r2, r3]);

    // Our reply's headers, for message.outbound.requested.
    expect(await emailReplyHeaders(p.db, p.tenant.tenantId, conversationId)).toEqual({
      subject: 'Re: Your new car offer',
      inReplyTo: r3,
      references: [campaign, r1, r2, r3],
    });
  });

  it("threads our reply (as the outbound path stores it) and the lead's answer to it", async () => {
    const headers = await emailReplyHeaders(p.db, p.tenant.tenantId, conversationId);
    const ourReply = await transaction(p.pool, async (tx) => {
      const [row] = await tx
        .insert(schema.messages)
        .values({
          tenantId: p.tenant.tenantId,
          conversationId,
          direction: 'outbound',
          provider: 'mailgun',
          providerMessageId: 'pending',
          type: 'email',
          body: 'Our agent will call you today.',
        })
        .returning({ id: schema.messages.id });
      const id = (row as { id: string }).id;
      const header = outboundMessageIdHeader(id, DEV_MAILGUN_DOMAIN);
      await tx.update(schema.messages).set({ providerMessageId: header }).where(eq(schema.messages.id, id));
      await recordOutboundEmail(tx, {
        tenantId: p.tenant.tenantId,
        conversationId,
        messageId: id,
        messageIdHeader: header,
        headers,
        sentAt: new Date(),
      });
      return header;
    });
    expect((await postEvent(campaignEvent('delivered', lead, `<${ourReply}>`))).status).toBe(200);
    await expect
      .poll(() =>
        p.pool
          .query('select delivery_status from messages where provider_message_id = $1', [ourReply])
          .then((r) => r.rows[0]?.delivery_status),
      )
      .toBe('delivered');
    const answer = 'answer-to-agent@customer.test';
    await postInbound(reply(lead, answer, 'Great, thanks', { 'In-Reply-To': `<${ourReply}>` }));
    await stored(answer);
    expect(await conversationOf(answer)).toBe(conversationId);
    const tree = (await (await p.api(`/conversations/${conversationId}/thread-tree`)).json()) as { messages: number };
    expect(tree.messages).toBe(6);
    const journey = (await (await p.api(`/conversations/${conversationId}/lead-journey`)).json()) as {
      counters: { outboundCount: number; inboundCount: number };
    };
    expect(journey.counters).toMatchObject({ outboundCount: 2, inboundCount: 4 });
  });

  it('keeps a stranger who cites the thread out of it', async () => {
    const id = 'stranger-1@other.test';
    await postInbound(
      reply('stranger@other.test', id, 'me too', { 'In-Reply-To': `<${campaign}>`, References: `<${campaign}>` }),
    );
    await stored(id);
    expect(await conversationOf(id)).not.toBe(conversationId);
  });

  it('threads by references even when the subject changed, and takes either id of a two-id In-Reply-To', async () => {
    await postInbound(
      reply(lead, 'changed-1@customer.test', 'other topic', { References: `<${campaign}>` }, 'A different question'),
    );
    await postInbound(
      reply(
        lead,
        'two-ids@customer.test',
        'two ids',
        { 'In-Reply-To': '<nowhere@x.test> <r1@customer.test>' },
        'Re: hi',
      ),
    );
    await stored('changed-1@customer.test');
    await stored('two-ids@customer.test');
    expect(await conversationOf('changed-1@customer.test')).toBe(conversationId);
    expect(await conversationOf('two-ids@customer.test')).toBe(conversationId);
  });

  it('falls back to the subject for a reply without headers, and starts a new thread for a new subject', async () => {
    await postInbound(reply(lead, 'subj-1@customer.test', 'hello again', {}, 'RE: Your new car offer'));
    await postInbound(reply(lead, 'new-1@customer.test', 'new question', {}, 'Service appointment'));
    await stored('subj-1@customer.test');
    await stored('new-1@customer.test');
    expect(await conversationOf('subj-1@customer.test')).toBe(conversationId);
    expect(await conversationOf('new-1@customer.test')).not.toBe(conversationId);
  });

  it('stores a re-sent email once (same Message-ID, new token)', async () => {
    const req = () => reply(lead, 'dup-1@customer.test', 'once', { References: `<${campaign}>` });
    expect((await postInbound(req())).status).toBe(200);
    expect((await postInbound(req())).status).toBe(200);
    await stored('dup-1@customer.test');
    await expect
      .poll(() => p.worker?.metrics.consumer.consumed.get().then((m) => m.values.reduce((s, v) => s + v.value, 0)))
      .toBeGreaterThan(0);
    expect(await count(`select count(*) as n from messages where provider_message_id = 'dup-1@customer.test'`)).toBe(1);
  });

  it('threads 20 concurrent replies into the thread, and 10 concurrent copies of one email into one row', async () => {
    const replies = Array.from({ length: 20 }, (_, i) =>
      postInbound(reply(lead, `conc-${i}@customer.test`, `reply ${i}`, { 'In-Reply-To': `<${campaign}>` })),
    );
    const copies = Array.from({ length: 10 }, () =>
      postInbound(reply(lead, 'copy-1@customer.test', 'one copy', { References: `<${campaign}>` })),
    );
    expect(new Set((await Promise.all([...replies, ...copies])).map((r) => r.status))).toEqual(new Set([200]));
    await expect
      .poll(() => count(`select count(*) as n from messages where provider_message_id like 'conc-%'`), {
        timeout: 20_000,
      })
      .toBe(20);
    await stored('copy-1@customer.test');
    expect(
      await count(`select count(distinct conversation_id) as n from messages where provider_message_id like 'conc-%'`),
    ).toBe(1);
    expect(await conversationOf('conc-0@customer.test')).toBe(conversationId);
    expect(await count(`select count(*) as n from messages where provider_message_id = 'copy-1@customer.test'`)).toBe(
      1,
    );
  });

  it('abandons the conversation on a permanent failure (bounce)', async () => {
    const bounced = 'campaign-2@mg.example.com';
    const data = {
      ...failedPermanentEventData(),
      id: `bounce-${Date.now()}`,
      timestamp: Date.now() / 1000,
      recipient: 'invalid@example.com',
    };
    (data.message.headers as Record<string, string>)['message-id'] = bounced;
    (data.message.headers as Record<string, string>).from = SALES;
    expect((await postEvent(data)).status).toBe(200);
    await stored(bounced);
    const conv = await conversationOf(bounced);
    await expect
      .poll(() =>
        p.pool
          .query('select state from lead_journeys where conversation_id = $1', [conv])
          .then((r) => r.rows[0]?.state),
      )
      .toBe('CLOSED');
    const [row] = (
      await p.pool.query('select delivery_status, errors from messages where provider_message_id = $1', [bounced])
    ).rows;
    expect(row).toMatchObject({ delivery_status: 'failed', errors: [{ code: 550, title: 'bounce' }] });
  });

  it('applies a Mailgun event once when Mailgun sends it again (same event id, new token)', async () => {
    const id = 'campaign-3@mg.example.com';
    const data = campaignEvent('delivered', 'lead.three@customer.test', id);
    expect((await postEvent(data)).status).toBe(200);
    expect((await postEvent(data)).status).toBe(200);
    await stored(id);
    const conv = await conversationOf(id);
    await expect
      .poll(() => p.events.ofKey('message.status.changed').filter((e) => e.event.subject === conv).length)
      .toBe(1);
    expect(await count('select count(*) as n from email_events where mailgun_event_id = $1', [data.id])).toBe(1);
  });

  it('rejects forged, stale and replayed signatures and changes nothing', async () => {
    const before = await count('select count(*) as n from messages');
    const data = campaignEvent('delivered', 'lead.forged@customer.test', 'forged-1@mg.example.com');
    expect((await postEvent(data, mailgunSignature('wrong-key'))).status).toBe(401);
    expect(
      (await postEvent(data, mailgunSignature(DEV_MAILGUN_SIGNING_KEY, new Date(Date.now() - 3_600_000)))).status,
    ).toBe(406);
    const sig = mailgunSignature();
    const first = await postInbound(
      inboundUrlencoded(inboundFields({ recipient: SALES, 'Message-Id': '<replay-1@customer.test>' }), sig),
    );
    const replay = await postInbound(
      inboundUrlencoded(inboundFields({ recipient: SALES, 'Message-Id': '<replay-2@customer.test>' }), sig),
    );
    expect([first.status, replay.status]).toEqual([200, 406]);
    await stored('replay-1@customer.test');
    expect(await conversationOf('forged-1@mg.example.com')).toBeUndefined();
    expect(await conversationOf('replay-2@customer.test')).toBeUndefined();
    expect(await count('select count(*) as n from messages')).toBe(before + 1);
  });

  it('answers 404 to another tenant and gives the dashboard overview', async () => {
    const acme = await seedTenant(p.db, {
      slug: 'acme-mail',
      name: 'Acme',
      channels: [{ provider: 'mailgun', accountId: 'mg.acme.test' }],
    });
    const { token } = await issueApiToken(p.db, acme.tenantId, 'acme', { scopes: TOKEN_SCOPES });
    expect((await p.api(`/conversations/${conversationId}/thread-tree`, { token })).status).toBe(404);
    expect((await p.api(`/conversations/${conversationId}/lead-journey`, { token })).status).toBe(404);
    expect(
      (
        await p.api(`/conversations/${conversationId}/transition`, {
          token,
          method: 'POST',
          body: { event: 'MANUAL_ARCHIVE', triggeredBy: 'x' },
        })
      ).status,
    ).toBe(404);
    const overview = (await (await p.api('/leads/overview')).json()) as {
      total: number;
      states: Record<string, number>;
      conversion: Array<{ from: string; to: string; reached: number }>;
    };
    expect(overview.states.HANDED_OVER).toBe(1);
    expect(overview.states.CLOSED).toBeGreaterThanOrEqual(1);
    expect(overview.conversion.find((c) => c.to === 'handover_ready')?.reached).toBe(1);
    expect(((await (await p.api('/leads/overview', { token })).json()) as { total: number }).total).toBe(0);
  });
});

describe('the public Mailgun fixtures, unchanged, through the pipeline', () => {
  it('end in the right rows and events', async () => {
    const fixtures = await seedTenant(p.db, {
      slug: 'fixtures',
      name: 'Fixtures',
      channels: [
        { provider: 'mailgun', accountId: 'example.org' },
        { provider: 'mailgun', accountId: 'inbound.example.com' },
      ],
    });
    const q = async (sqlText: string, params: unknown[]) => (await p.pool.query(sqlText, params)).rows;
    expect((await postEvent(deliveredEventData())).status).toBe(200);
    expect((await postEvent(failedPermanentEventData())).status).toBe(200);
    expect((await postInbound(inboundUrlencoded(inboundFields()))).status).toBe(200);
    const mime = await inboundMultipart({
      recipient: 'test@inbound.example.com',
      sender: 'envelope-from@example.org',
      'body-mime': INBOUND_MIME,
    });
    expect(
      (
        await fetch(`${p.ingestUrl}/webhooks/mailgun/inbound`, {
          method: 'POST',
          body: mime.body,
          headers: mime.headers,
        })
      ).status,
    ).toBe(200);

    await stored('20180812211713.1.DF5966851B4BAA99@example.org');
    await stored('20180812214658.1.0DF563D0B3597700@example.org');
    await stored('CAEPk3R+4Zr@mail.example.org');
    await stored('CAEPk3RKEx@mail.example.org');
    const rows = await q(
      `select m.provider_message_id, m.direction, m.delivery_status, m.body, c.email, l.state
         from messages m join conversations v on v.id = m.conversation_id join customers c on c.id = v.customer_id
         join lead_journeys l on l.conversation_id = v.id
        where m.tenant_id = $1 order by m.provider_message_id`,
      [fixtures.tenantId],
    );
    expect(rows).toEqual([
      {
        provider_message_id: '20180812211713.1.DF5966851B4BAA99@example.org',
        direction: 'outbound',
        delivery_status: 'delivered',
        body: null,
        email: 'recipient@example.com',
        state: 'ACTIVE',
      },
      {
        provider_message_id: '20180812214658.1.0DF563D0B3597700@example.org',
        direction: 'outbound',
        delivery_status: 'failed',
        body: null,
        email: 'invalid@example.com',
        state: 'CLOSED',
      },
      {
        provider_message_id: 'CAEPk3R+4Zr@mail.example.org',
        direction: 'inbound',
        delivery_status: null,
        body: 'stripped plaintext body',
        email: 'from+test@example.org',
        state: 'ENGAGED',
      },
      {
        provider_message_id: 'CAEPk3RKEx@mail.example.org',
        direction: 'inbound',
        delivery_status: null,
        body: "It's a body\u2026\n",
        email: 'test@example.org',
        state: 'ENGAGED',
      },
    ]);
    const ofTenant = (key: string) => p.events.ofKey(key).filter((e) => e.event.tenantid === fixtures.tenantId);
    await expect.poll(() => ofTenant('conversation.state.changed').length, { timeout: 10_000 }).toBe(4);
    expect(ofTenant('conversation.opened')).toHaveLength(4);
    expect(ofTenant('message.received')).toHaveLength(2);
    expect(ofTenant('message.sent')).toHaveLength(2);
  });
});
