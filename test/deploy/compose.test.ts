import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployedServices, read, root } from './repo.ts';

const run = promisify(execFile);
const dclint = join(root, 'node_modules/dclint/bin/dclint.cjs');

type Service = {
  profiles?: string[];
  command?: string[];
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
};
const compose = parse(read('infra/compose.yaml'), { merge: true }) as { services: Record<string, Service> };
const app = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('app'));
const appNames = app.map(([name]) => name);

describe('infra/compose.yaml', () => {
  it('is valid against the Compose Specification (dclint: schema and error-level rules)', async () => {
    const { stdout } = await run(process.execPath, [dclint, 'infra/compose.yaml', '--quiet', '--color', 'false'], {
      cwd: root,
    }).catch((err: { stdout: string }) => ({ stdout: `dclint failed:${err.stdout}` }));
    expect(stdout.trim()).toBe('');
  }, 60_000);

  it('has an app profile with every service and the migration one-shot', () => {
    expect(appNames.sort()).toEqual(['migrate', ...deployedServices()].sort());
  });

  it('builds one image from the repository Dockerfile and runs each service by name', () => {
    for (const [name, s] of app) {
      expect(s.image, name).toBe('switchboard:local');
      expect(s.build, name).toEqual({ context: '..', dockerfile: 'Dockerfile' });
      if (name !== 'migrate') expect(s.command, name).toEqual([name]);
    }
  });

  it('starts every service only after the migrations completed and its dependencies are healthy', () => {
    for (const [name, s] of app.filter(([n]) => n !== 'migrate')) {
      expect(s.depends_on?.migrate?.condition, name).toBe('service_completed_successfully');
      for (const dep of ['postgres', 'redis', 'rabbitmq']) {
        expect(s.depends_on?.[dep]?.condition, `${name} → ${dep}`).toBe('service_healthy');
      }
    }
    const migrate = compose.services.migrate as Service;
    expect(migrate.command?.join(' ')).toMatch(/switchboard\.js migrate/);
    expect(migrate.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(migrate.healthcheck).toEqual({ disable: true });
  });

  it('reaches the infrastructure by service name, and publishes each port once on loopback', () => {
    const published: string[] = [];
    for (const [name, s] of app) {
      expect(s.environment?.DATABASE_URL, name).toMatch(/@postgres:5432\//);
      expect(s.environment?.AMQP_URL, name).toMatch(/@rabbitmq:5672$/);
      expect(s.environment?.REDIS_URL, name).toBe('redis://redis:6379');
      for (const p of s.ports ?? []) {
        expect(p, name).toMatch(/^127\.0\.0\.1:808[0-4]:808[0-4]$/);
        published.push(p);
      }
    }
    expect(new Set(published).size).toBe(published.length);
  });
});
