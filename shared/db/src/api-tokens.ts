import { createHash, randomBytes } from 'node:crypto';
import type { TokenScope } from '@switchboard/domain';
import { RequestError } from '@switchboard/platform';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from './client.ts';
import { apiTokens, tenants } from './schema/index.ts';

/** The development token of tenant `dev`, seeded outside production like the dev secrets. */
export const DEV_API_TOKEN = 'dev-api-token';

export const hashApiToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new random token (`sbk_` + 256 bits, base64url); shown once, stored only as its hash. */
export const newApiToken = () => `sbk_${randomBytes(32).toString('base64url')}`;

/**
 * Stores `token` (default: a new random one) for the tenant with `scopes` (default: read only);
 * idempotent for the same token (its scopes are not changed by a second issue).
 */
export async function issueApiToken(
  db: Executor,
  tenantId: string,
  name: string,
  opts: { token?: string; scopes?: readonly TokenScope[] } = {},
): Promise<{ id: string; token: string }> {
  const token = opts.token ?? newApiToken();
  const [row] = await db
    .insert(apiTokens)
    .values({ tenantId, name, tokenSha256: hashApiToken(token), scopes: [...(opts.scopes ?? ['read'])] })
    .onConflictDoUpdate({ target: apiTokens.tokenSha256, set: { name: sql`api_tokens.name` } })
    .returning({ id: apiTokens.id, tenantId: apiTokens.tenantId });
  if (!row) throw new Error('token insert returned no row');
  if (row.tenantId !== tenantId) throw new Error('that token already belongs to another tenant');
  return { id: row.id, token };
}

export interface TokenTenant {
  tenantId: string;
  slug: string;
  /** What the token may do (shared/domain/src/token-scopes.ts). */
  scopes: string[];
}

/** The tenant a presented token belongs to, or null for an unknown or revoked token. */
export async function tenantForApiToken(db: Executor, token: string): Promise<TokenTenant | null> {
  const [row] = await db
    .select({ tenantId: apiTokens.tenantId, slug: tenants.slug, scopes: apiTokens.scopes })
    .from(apiTokens)
    .innerJoin(tenants, eq(tenants.id, apiTokens.tenantId))
    .where(and(eq(apiTokens.tokenSha256, hashApiToken(token)), isNull(apiTokens.revokedAt)));
  return row ?? null;
}

export async function revokeApiToken(db: Executor, id: string): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

export async function listApiTokens(db: Executor, tenantId: string) {
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      scopes: apiTokens.scopes,
      createdAt: apiTokens.createdAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .where(eq(apiTokens.tenantId, tenantId))
    .orderBy(apiTokens.createdAt);
}

/**
 * Bearer token → tenant and scopes, cached in-process for `ttlMs` (a revoked token stops working within that
 * time). Unknown tokens are not cached, so a token issued a moment ago works at once.
 */
export function createTokenAuth(db: Executor, ttlMs: number) {
  const cache = new Map<string, { at: number; tenant: TokenTenant }>();
  return async (header: string | string[] | undefined): Promise<TokenTenant> => {
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header) : null;
    if (!match) {
      throw new RequestError(401, 'unauthorized', 'send Authorization: Bearer <API token>', {
        'www-authenticate': 'Bearer',
      });
    }
    const token = match[1] as string;
    const hit = cache.get(token);
    if (hit && Date.now() - hit.at < ttlMs) return hit.tenant;
    const tenant = await tenantForApiToken(db, token);
    if (!tenant) {
      cache.delete(token);
      throw new RequestError(401, 'unauthorized', 'unknown or revoked API token', {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
    }
    cache.set(token, { at: Date.now(), tenant });
    return tenant;
  };
}
