// Writes deploy/k8s/base/prometheus-rule.yaml from infra/prometheus/alerts.yaml, the one source of
// the alert rules (promtool checks and tests that file): `npm run k8s:alerts` after changing it.
// test/deploy/kubernetes.test.ts fails while the two differ.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const source = new URL('../infra/prometheus/alerts.yaml', import.meta.url);
const target = new URL('../deploy/k8s/base/prometheus-rule.yaml', import.meta.url);

const { groups } = parse(readFileSync(source, 'utf8')) as { groups: unknown[] };
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'switchboard' },
  spec: { groups },
};
const header = '# Generated from infra/prometheus/alerts.yaml by `npm run k8s:alerts`: edit that file, not this one.\n';
writeFileSync(target, header + stringify(rule, { lineWidth: 0 }));
// In the repository's own format (the yaml library quotes some strings otherwise than Biome), so
// `biome check`, part of `npm test`, passes on what this writes.
execFileSync('npx', ['biome', 'format', '--write', fileURLToPath(target)], { stdio: 'ignore' });
console.log(`wrote ${target.pathname}`);
