import { spawnSync } from 'node:child_process';
import { baseUrl, type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { agentDeskEvent, signedAgentDesk, signedWhatsApp, whatsappText } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/**
 * promtool findings we accept, each with why. Only prom-client's default Node.js metrics: these
 * gauges are named `_total` upstream, and renaming them would break every public Node.js
 * dashboard. Our own metrics get no exemption; a new entry needs a reason beside it.
 */
const acceptedWarnings: RegExp[] = [
  /^nodejs_active_handles_total non-counter metrics should not have "_total" suffix$/,
  /^nodejs_active_requests_total non-counter metrics should not have "_total" suffix$/,
  /^nodejs_active_resources_total non-counter metrics should not have "_total" suffix$/,
];

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ assignment: true });
  // Exercise every labelled series once, so the check sees samples and not only HELP/TYPE lines.
  await p.post('/webhooks/whatsapp', signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.m-1', text: 'x' })));
  await p.post('/webhooks/whatsapp', { ...signedWhatsApp({}), headers: { 'content-type': 'application/json' } });
  await p.postWebhooks('/webhooks/agent-desk', {
    ...signedAgentDesk(agentDeskEvent('operator.status_changed', { operatorId: 'op-1', status: 'online' })),
    headers: { 'content-type': 'application/json' },
  });
  await vi.waitFor(() => expect(p.events.ofKey('message.received')).toHaveLength(1), { timeout: 10_000 });
});
afterAll(async () => {
  await p.stop();
});

describe('/metrics', () => {
  it.each(['ingest', 'webhooks', 'sync-worker', 'assignment-worker'] as const)(
    'of %s passes promtool check metrics',
    async (service) => {
      const app = {
        ingest: p.ingest.app,
        webhooks: p.webhooks.app,
        'sync-worker': p.worker?.app,
        'assignment-worker': p.assignment?.app,
      }[service];
      if (!app) throw new Error('service not running');
      const res = await fetch(`${baseUrl(app)}/metrics`);
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toContain(`service="${service}"`);

      const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      expect(check.error, 'promtool must be installed (infra/up --with-test-tools does it)').toBeUndefined();
      const findings = `${check.stdout}${check.stderr}`
        .split('\n')
        .filter((line) => line.trim() !== '')
        .filter((line) => !acceptedWarnings.some((re) => re.test(line)));
      expect(findings).toEqual([]);
      // Exit 3 means "lint findings only" (all of them accepted above); 1 would be a parse error.
      expect([0, 3]).toContain(check.status);
    },
  );

  it('reports the depth of the queues the sync-worker consumes and parks into', async () => {
    const app = p.worker?.app;
    if (!app) throw new Error('service not running');
    await expect
      .poll(async () => (await fetch(`${baseUrl(app)}/metrics`)).text())
      .toMatch(/amqp_queue_messages\{[^}]*queue="sync-worker\.inbound\.dead"[^}]*\} 0/);
    const body = await (await fetch(`${baseUrl(app)}/metrics`)).text();
    expect(body).toMatch(/amqp_queue_messages\{[^}]*queue="sync-worker\.inbound"/);
    expect(body).toMatch(/amqp_queue_messages\{[^}]*queue="switchboard\.parked"/);
  });

  it('labels routes by pattern, never by URL', async () => {
    const body = await (await fetch(`${p.ingestUrl}/metrics`)).text();
    expect(body).toMatch(/http_requests_total\{[^}]*route="\/webhooks\/whatsapp"[^}]*status_code="200"/);
    expect(body).toMatch(/webhook_signature_failures_total\{[^}]*provider="whatsapp"[^}]*\} 1/);
  });
});
