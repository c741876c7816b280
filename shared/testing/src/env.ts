import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrationsFolder } from '@switchboard/db';

/** Where the real local services are; tests never talk to anything else. */
export const testUrls = {
  postgres: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchboard',
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  amqp: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
};

/**
 * The migrated template every test database is cloned from. Its name carries a hash of the
 * migrations, so concurrent runs share it and a changed migration gets a fresh one.
 */
export const TEMPLATE_DB = `sbt_template_${migrationsHash()}`;

function migrationsHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(entry.name).update(readFileSync(path));
    }
  };
  walk(migrationsFolder);
  return hash.digest('hex').slice(0, 12);
}

export const uniqueSuffix = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export function databaseUrl(name: string): string {
  const url = new URL(testUrls.postgres);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * The role the services connect as (migration 0020): not the tables' owner, no superuser, no
 * BYPASSRLS, so every query a service under test runs passes Row-Level Security.
 */
export const APP_ROLE = 'switchboard_app';

/** `url` as the services' role (trust auth locally: the user name is all it takes). */
export function appRoleUrl(url: string): string {
  const u = new URL(url);
  u.username = APP_ROLE;
  u.password = '';
  return u.toString();
}
