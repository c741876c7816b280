import { type Executor, type TokenTenant, tenantForApiToken } from '@switchboard/db';
import { RequestError } from '@switchboard/platform';
import type { FastifyRequest } from 'fastify';

/**
 * Bearer token → tenant, cached in-process for `ttlMs` (a revoked token stops working within that
 * time). Unknown tokens are not cached, so a token issued a moment ago works at once.
 */
export function createTokenAuth(db: Executor, ttlMs: number) {
  const cache = new Map<string, { at: number; tenant: TokenTenant }>();
  return async (req: FastifyRequest): Promise<TokenTenant> => {
    const header = req.headers.authorization;
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
