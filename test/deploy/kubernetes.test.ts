import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { modelFor } from './kubernetes-models.ts';
import { deployedServices, read, root } from './repo.ts';

const run = promisify(execFile);
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<
  string,
  unknown
>;

/** `kubectl kustomize <dir>`: the objects the cluster would get. */
async function render(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((d) => unwrapSecretData(d.toJS() as K8sObject));
}

/**
 * Kustomize folds a long base64 value of a Secret over several lines; the API server's decoder
 * (Go's base64) skips the newlines, the schema's `byte` format does not, so they go before validating.
 */
function unwrapSecretData(o: K8sObject): K8sObject {
  if (o.kind !== 'Secret' || !o.data) return o;
  const data = Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')]);
  return { ...o, data: Object.fromEntries(data) };
}

const named = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
type Container = {
  args?: string[];
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  resources?: { requests?: object; limits?: object };
  env?: Array<{ valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
};
const containersOf = (o: K8sObject) =>
  ((o.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers ?? []) as Container[];

describe.each(['deploy/k8s/base', 'deploy/k8s/overlays/example'])('kubectl kustomize %s', (dir) => {
  it('renders objects that each validate against their Kubernetes (or CRD) schema', async () => {
    const objects = await render(dir);
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) {
      const Model = modelFor(o.apiVersion, o.kind);
      expect(Model, `${o.apiVersion} ${o.kind}: no schema known for it`).toBeDefined();
      expect(
        () => new (Model as NonNullable<typeof Model>)(o as never).validate(),
        `${o.kind}/${o.metadata.name}`,
      ).not.toThrow();
    }
  }, 60_000);
});

describe('the example overlay', () => {
  it('runs every service with probes on /readyz and /healthz, resources, a PDB and autoscaling', async () => {
    const objects = await render('deploy/k8s/overlays/example');
    const deployments = named(objects, 'Deployment').map((d) => d.metadata.name);
    expect(deployments.sort()).toEqual(deployedServices());
    for (const name of deployedServices()) {
      const [c] = containersOf(find(objects, 'Deployment', name) as K8sObject);
      expect(c?.args, name).toEqual([name]);
      expect(c?.readinessProbe?.httpGet?.path, name).toBe('/readyz');
      expect(c?.livenessProbe?.httpGet?.path, name).toBe('/healthz');
      expect(c?.resources?.requests, name).toBeDefined();
      expect(c?.resources?.limits, name).toBeDefined();
      expect(find(objects, 'PodDisruptionBudget', name), name).toBeDefined();
      expect(find(objects, 'Service', name), name).toBeDefined();
      const scaled = find(objects, 'ScaledObject', name) ?? find(objects, 'HorizontalPodAutoscaler', name);
      expect(scaled, `${name} autoscaling`).toBeDefined();
    }
    for (const worker of ['sync-worker', 'assignment-worker']) {
      const so = find(objects, 'ScaledObject', worker) as {
        spec: { triggers: Array<{ type: string; metadata: { queueName: string } }> };
      } & K8sObject;
      expect(so?.spec.triggers.map((t) => [t.type, t.metadata.queueName])).toEqual([
        ['rabbitmq', expect.stringMatching(new RegExp(`^${worker}\\.`))],
      ]);
    }
    const job = find(objects, 'Job', 'switchboard-migrate') as K8sObject;
    expect(containersOf(job)[0]?.args).toEqual(['migrate']);
  }, 60_000);

  it('refers only to the Secret and ConfigMap it generates, by their hashed names', async () => {
    const objects = await render('deploy/k8s/overlays/example');
    const secrets = named(objects, 'Secret').map((s) => s.metadata.name);
    const configMaps = named(objects, 'ConfigMap').map((s) => s.metadata.name);
    expect(secrets).toHaveLength(1);
    const secretData = (named(objects, 'Secret')[0] as { data: Record<string, string> } & K8sObject).data;
    for (const w of [...named(objects, 'Deployment'), ...named(objects, 'Job')]) {
      for (const c of containersOf(w)) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref) continue;
          expect(secrets).toContain(ref.name);
          expect(Object.keys(secretData), `${w.metadata.name}: Secret key ${ref.key}`).toContain(ref.key);
        }
        for (const e of c.envFrom ?? []) if (e.configMapRef) expect(configMaps).toContain(e.configMapRef.name);
      }
    }
    const auth = find(objects, 'TriggerAuthentication', 'switchboard-rabbitmq') as {
      spec: { secretTargetRef: Array<{ name: string }> };
    } & K8sObject;
    for (const ref of auth.spec.secretTargetRef) expect(secrets).toContain(ref.name);
  }, 60_000);
});

describe('deploy/k8s/base/prometheus-rule.yaml', () => {
  it('carries exactly the rules of infra/prometheus/alerts.yaml (regenerate: npm run k8s:alerts)', () => {
    const rule = parse(read('deploy/k8s/base/prometheus-rule.yaml')) as { spec: { groups: unknown } };
    const alerts = parse(read('infra/prometheus/alerts.yaml')) as { groups: unknown };
    expect(rule.spec.groups).toEqual(alerts.groups);
  });
});
