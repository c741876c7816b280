import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Rule {
  alert?: string;
  expr: string;
  annotations?: Record<string, string>;
}
const groups = (parse(read('infra/prometheus/alerts.yaml')) as { groups: Array<{ name: string; rules: Rule[] }> })
  .groups;
const alerts = groups.flatMap((g) => g.rules.filter((r) => r.alert).map((r) => ({ ...r, group: g.name })));
const runbookDir = 'docs/runbooks';
const runbookPages = readdirSync(join(root, runbookDir)).filter((f) => f.endsWith('.md') && f !== 'README.md');

/**
 * Alerts written before the promtool tests covered each one. The list only shrinks: a new alert
 * gets its test in alerts.test.yaml.
 */
const UNTESTED_BEFORE_ISSUE_15 = new Set([
  'SwitchboardBrokerReconnecting',
  'SwitchboardHttp4xxRateHigh',
  'SwitchboardWebhookLatencyHigh',
  'SwitchboardWebhookSignatureFailures',
  'SwitchboardPublishFailures',
  'SwitchboardEventRetriesHigh',
  'SwitchboardHandlerLatencyHigh',
  'SwitchboardOutboxPublishFailures',
  'SwitchboardLockWaitTimeouts',
  'SwitchboardStatusSyncSlow',
  'SwitchboardEventLoopLagHigh',
  'SwitchboardMemoryHigh',
]);

/** Every relative link target in a markdown page, without its #anchor. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] as string)
    .filter((href) => !/^[a-z]+:/.test(href) && !href.startsWith('#'))
    .map((href) => href.split('#')[0] as string);
}

describe('alert runbooks', () => {
  it.each(alerts.map((a) => [a.alert, a] as const))('%s links a runbook page in the repository', (name, alert) => {
    const url = alert.annotations?.runbook_url;
    expect(url, `${name} has no runbook_url`).toMatch(new RegExp(`^${runbookDir}/[a-z0-9-]+\\.md$`));
    expect(existsSync(join(root, url as string)), `${url} does not exist`).toBe(true);
    expect(read(url as string).split('\n')[0]).toBe(`# ${name}`);
  });

  it('has no page that no alert links', () => {
    const linked = new Set(alerts.map((a) => a.annotations?.runbook_url?.slice(runbookDir.length + 1)));
    expect(runbookPages.filter((p) => !linked.has(p))).toEqual([]);
  });

  it.each([...runbookPages, 'README.md'])('%s: every relative link resolves', (page) => {
    const path = join(runbookDir, page);
    const broken = relativeLinks(read(path)).filter((href) => !existsSync(join(root, dirname(path), href)));
    expect(broken.map((href) => relative(root, join(root, dirname(path), href)))).toEqual([]);
  });

  it('every alert is exercised by promtool test rules (alerts.test.yaml)', () => {
    const tested = new Set(
      [...read('infra/prometheus/alerts.test.yaml').matchAll(/alertname: (\w+)/g)].map((m) => m[1]),
    );
    const untested = alerts
      .map((a) => a.alert as string)
      .filter((n) => !tested.has(n) && !UNTESTED_BEFORE_ISSUE_15.has(n));
    expect(untested).toEqual([]);
  });
});

describe('grafana dashboard', () => {
  const dashboard = JSON.parse(read('infra/grafana/dashboard.json')) as {
    panels: Array<{ id: number; title: string; targets?: Array<{ expr: string }> }>;
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets?.map((t) => t.expr) ?? []).join('\n');

  it('has unique panel ids', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  // Each metric an alert watches has a panel, so the page an alert links to can be looked at.
  it.each([
    'chats_waiting',
    'chat_wait_seconds_bucket',
    'chats_stuck_total',
    'chat_idle_checks_unscheduled_total',
    'chat_assignments_total',
    'amqp_queue_messages',
    'events_consumed_total',
    'retention_run_failures_total',
    'retention_lag_seconds',
    'customer_erasure_failures_total',
    'db_role_bypasses_rls',
  ])('charts %s', (metric) => {
    expect(exprs).toContain(metric);
  });
});
