import { addChannel, newChannelSecret, rotateChannelSecret } from '@switchboard/db';
import { loadConfig as loadSyncConfig, type SyncWorker, startSyncWorker } from '@switchboard/sync-worker';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { helpdeskEvent, signedTimestamped, signedWhatsApp, whatsappText } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The edges stand alone: they verify a channel's own secret from the registry snapshot they hold
 * (published to Redis by the sync-worker), so a sync-worker outage changes nothing at the edge,
 * and a rotation reaches both edges within seconds.
 */
const WA_ACCOUNT = '106540352249001';
/** A channel no webhook named before the outage: the old on-demand lookup would have answered 503. */
const WA_UNSEEN = '106540352249002';
const HD_ACCOUNT = 'standalone-helpdesk';
let p: Pipeline;
let restarted: SyncWorker | undefined;
const secrets = { whatsapp: newChannelSecret(), helpdesk: newChannelSecret(), unseen: newChannelSecret() };
const ids: Record<'whatsapp' | 'helpdesk', string> = { whatsapp: '', helpdesk: '' };

beforeAll(async () => {
  p = await startPipeline({ env: { CHANNEL_SECRETS_RESYNC_MS: '60000' } });
  const tenantId = p.tenant.tenantId;
  // Added first: a snapshot that holds a later channel holds this one too.
  await addChannel(p.db, { tenantId, provider: 'whatsapp', accountId: WA_UNSEEN, secret: secrets.unseen });
  ids.whatsapp = (
    await addChannel(p.db, { tenantId, provider: 'whatsapp', accountId: WA_ACCOUNT, secret: secrets.whatsapp })
  ).id;
  ids.helpdesk = (
    await addChannel(p.db, { tenantId, provider: 'helpdesk', accountId: HD_ACCOUNT, secret: secrets.helpdesk })
  ).id;
});
afterAll(async () => {
  await restarted?.lifecycle.stop();
  await p.stop();
});

let seq = 0;
/** A WhatsApp text for our channel's number, signed with `secret`. */
function whatsapp(secret: string, account = WA_ACCOUNT) {
  seq += 1;
  const id = `wamid.standalone-${seq}`;
  const payload = whatsappText({ from: '16315550100', id, text: `hello ${seq}` });
  const change = (payload.entry[0] as { changes: Array<{ value: { metadata: { phone_number_id: string } } }> })
    .changes[0];
  if (change) change.value.metadata.phone_number_id = account;
  return { id, req: signedWhatsApp(payload, secret) };
}
const helpdesk = (secret: string) =>
  signedTimestamped(
    {
      ...helpdeskEvent('ticket.created', { ticketId: `t-${++seq}`, conversationId: crypto.randomUUID() }),
      accountId: HD_ACCOUNT,
    },
    secret,
  );
const statuses = async (wa: string, hd: string) => ({
  ingest: (await p.post('/webhooks/whatsapp', whatsapp(wa).req)).status,
  webhooks: (await p.postWebhooks('/webhooks/helpdesk', helpdesk(hd))).status,
});
const stored = async (wamid: string) =>
  (await p.pool.query('select 1 from messages where provider_message_id = $1', [wamid])).rowCount ?? 0;

describe('edges that stand alone', () => {
  it('verify a channel secret with the sync-worker stopped, and what they accepted is applied once it is back', async () => {
    // Seen by both edges: the channels' own secrets are accepted (a new channel reaches them within seconds).
    await expect
      .poll(() => statuses(secrets.whatsapp, secrets.helpdesk), { timeout: 10_000, interval: 100 })
      .toEqual({ ingest: 200, webhooks: 200 });

    await p.worker?.lifecycle.stop();
    const accepted: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { id, req } = whatsapp(secrets.whatsapp);
      expect((await p.post('/webhooks/whatsapp', req)).status).toBe(200);
      accepted.push(id);
      expect((await p.postWebhooks('/webhooks/helpdesk', helpdesk(secrets.helpdesk))).status).toBe(200);
    }
    const unseen = whatsapp(secrets.unseen, WA_UNSEEN);
    expect((await p.post('/webhooks/whatsapp', unseen.req)).status).toBe(200);
    accepted.push(unseen.id);
    // Still refused with a wrong secret, or the env default the channel's own secret replaces.
    expect(await statuses('not-the-secret', 'not-the-secret')).toEqual({ ingest: 401, webhooks: 401 });
    expect(await statuses('dev-whatsapp-app-secret', 'dev-helpdesk-secret')).toEqual({ ingest: 401, webhooks: 401 });
    expect(await Promise.all(accepted.map(stored))).toEqual([0, 0, 0, 0, 0, 0]);

    restarted = await startSyncWorker(loadSyncConfig(p.env));
    await expect
      .poll(async () => Promise.all(accepted.map(stored)), { timeout: 30_000, interval: 200 })
      .toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('take a rotated secret within seconds at both edges, and refuse the old one once its grace is over', async () => {
    const next = {
      whatsapp: (await rotateChannelSecret(p.db, ids.whatsapp, 0))?.secret as string,
      helpdesk: (await rotateChannelSecret(p.db, ids.helpdesk, 0))?.secret as string,
    };
    const started = Date.now();
    await expect
      .poll(() => statuses(next.whatsapp, next.helpdesk), { timeout: 5_000, interval: 50 })
      .toEqual({ ingest: 200, webhooks: 200 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await statuses(secrets.whatsapp, secrets.helpdesk)).toEqual({ ingest: 401, webhooks: 401 });
  });
});
