import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { agentDeskEvent, signedAgentDesk, signedWhatsApp, whatsappStatus, whatsappText } from '@switchboard/testing';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { type Realtime, startRealtime } from './service.ts';
import { urlOf } from './test-kit.ts';

/**
 * The operator console in Debian's headless Chromium (driven by playwright-core; installed by
 * `infra/up --with-test-tools`), against the whole pipeline: a signed WhatsApp webhook appears in
 * the queue without a reload, Next chat assigns it, the message shows, the operator's reply is
 * dispatched and WhatsApp's `read` turns its tick. Its screenshots go to test-results/console/
 * (kept out of git); `CONSOLE_SCREENSHOTS_DIR=docs/img` refreshes the README's.
 */
const SHOTS = resolve(
  new URL('../../../', import.meta.url).pathname,
  process.env.CONSOLE_SCREENSHOTS_DIR ?? 'test-results/console',
);
const CUSTOMER = '16315553001';
let p: Pipeline;
let rt: Realtime;
let context: BrowserContext;
let profile: string;

/** A gateway's config on the test's pipeline (its read and operator APIs), with `extra` on top. */
const gatewayConfig = (extra: Record<string, string> = {}) =>
  loadConfig({
    ...p.env,
    REALTIME_PORT: '0',
    REALTIME_HOST: '127.0.0.1',
    REALTIME_READ_API_URL: p.workerUrl,
    REALTIME_ASSIGNMENT_API_URL: p.assignmentUrl,
    ...extra,
  });

beforeAll(async () => {
  p = await startPipeline({ assignment: true });
  rt = await startRealtime(gatewayConfig());
  await rt.broker.ready();
  profile = mkdtempSync(join(tmpdir(), 'sb-console-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 760 },
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});
afterAll(async () => {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
  await rt?.lifecycle.stop();
  await p?.stop();
});

async function desk(type: string, data: Record<string, unknown>) {
  const res = await p.postWebhooks('/webhooks/agent-desk', signedAgentDesk(agentDeskEvent(type, data)));
  expect(res.status).toBe(200);
}

async function signIn(page: Page, gateway: Realtime = rt) {
  await page.goto(urlOf(gateway));
  await page.fill('#token', p.apiToken);
  await page.fill('#operator', 'op-ana');
  await page.click('#login button[type=submit]');
  await page.locator('#link', { hasText: 'live' }).waitFor({ timeout: 15_000 });
}

describe('operator console', () => {
  it('shows a new chat live, takes it with Next chat, and turns its tick on read', async () => {
    mkdirSync(SHOTS, { recursive: true });
    await desk('operator.status_changed', { operatorId: 'op-ana', status: 'online', capacity: 3, displayName: 'Ana' });
    await expect
      .poll(
        async () =>
          ((await (await p.assignmentApi('/queue/status')).json()) as { operatorsOnline: number }).operatorsOnline,
        { timeout: 15_000 },
      )
      .toBe(1);
    const page = await context.newPage();
    await signIn(page);

    const hook = whatsappText({
      from: CUSTOMER,
      id: 'wamid.console-1',
      text: 'Hi, my order #4411 is late',
      name: 'Kerry Fisher',
    });
    expect((await p.post('/webhooks/whatsapp', signedWhatsApp(hook))).status).toBe(200);
    const queued = page.locator('#queue li', { hasText: `+${CUSTOMER}` });
    await queued.waitFor({ timeout: 15_000 });
    await page.locator('#sv-waiting', { hasText: '1' }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(SHOTS, 'console-queue.png') });

    await page.click('#next-chat');
    await page.locator('#mine li', { hasText: `+${CUSTOMER}` }).waitFor({ timeout: 15_000 });
    await expect.poll(() => queued.count(), { timeout: 10_000 }).toBe(0);
    await page.locator('#messages li', { hasText: 'my order #4411 is late' }).waitFor({ timeout: 15_000 });
    await page.locator('#customer', { hasText: 'Kerry Fisher' }).waitFor();

    const conversationId = (await page.locator('#mine li').first().getAttribute('data-chat')) as string;
    await desk('operator.replied', {
      conversationId,
      operatorId: 'op-ana',
      messageId: 'desk-msg-1',
      text: 'On its way: arriving tomorrow.',
    });
    const reply = page.locator('#messages li.outbound', { hasText: 'arriving tomorrow' });
    await reply.waitFor({ timeout: 15_000 });
    const messageId = (await reply.getAttribute('data-message')) as string;
    await page.locator('#mine li', { hasText: 'waiting on the customer' }).waitFor({ timeout: 15_000 });

    // The downstream sender reports WhatsApp's id for the reply; then WhatsApp reports it read.
    const dispatched = await p.api(`/messages/${messageId}/dispatched`, {
      method: 'POST',
      body: { providerMessageId: 'wamid.console-out-1' },
    });
    expect(dispatched.status).toBe(200);
    const read = whatsappStatus({
      id: 'wamid.console-out-1',
      status: 'read',
      timestamp: Math.floor(Date.now() / 1000),
      recipient: CUSTOMER,
    });
    expect((await p.post('/webhooks/whatsapp', signedWhatsApp(read))).status).toBe(200);
    await page.locator(`[data-message="${messageId}"] .tick.read`).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(SHOTS, 'console-conversation.png') });
    await page.close();
  });

  it('replaces a browser token the gateway closed as expired and stays live', async () => {
    // A replica whose browser tokens last 2 s, checked at every 200 ms heartbeat.
    const short = await startRealtime(
      gatewayConfig({ REALTIME_BROWSER_TOKEN_TTL_SECONDS: '2', REALTIME_HEARTBEAT_MS: '200' }),
    );
    const page = await context.newPage();
    try {
      await short.broker.ready();
      let minted = 0;
      page.on('request', (r) => {
        if (r.url().endsWith('/auth/token')) minted++;
      });
      await signIn(page, short);
      // The sign-in's token and the first connection's; then one per expiry (4001) and reconnect.
      await expect.poll(() => minted, { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
      await page.locator('#link', { hasText: 'live' }).waitFor({ timeout: 15_000 });
      const hook = whatsappText({ from: '16315553002', id: 'wamid.console-2', text: 'still there?' });
      expect((await p.post('/webhooks/whatsapp', signedWhatsApp(hook))).status).toBe(200);
      await page.locator('#queue li', { hasText: '+16315553002' }).waitFor({ timeout: 15_000 });
    } finally {
      await page.close();
      await short.lifecycle.stop();
    }
  });
});
