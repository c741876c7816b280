import { jwtVerify, SignJWT } from 'jose';

/**
 * Who a client is. The gateway owns no table: a read-API token is checked by asking the
 * sync-worker's `GET /tenant` (the one place that reads `api_tokens`), and the answer is cached
 * for `cacheMs`. Browsers get a short-lived HS256 token minted from it (`POST /auth/token`), so
 * the long-lived read-API token never sits in a page or a WebSocket URL.
 */
export interface Tenant {
  tenantId: string;
  slug: string;
}

export class AuthUnavailableError extends Error {
  override name = 'AuthUnavailableError';
}

const AUDIENCE = 'switchboard-realtime';

export interface AuthOptions {
  readApiUrl: string;
  secret: string;
  ttlSeconds: number;
  cacheMs: number;
  now?: () => number;
}

export function createAuth(opts: AuthOptions) {
  const key = new TextEncoder().encode(opts.secret);
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { at: number; tenant: Tenant }>();

  async function apiToken(token: string): Promise<Tenant | null> {
    const hit = cache.get(token);
    if (hit && now() - hit.at < opts.cacheMs) return hit.tenant;
    let res: Response;
    try {
      res = await fetch(`${opts.readApiUrl}/tenant`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5_000),
      });
    } catch (err) {
      throw new AuthUnavailableError(`read API unreachable: ${(err as Error).message}`);
    }
    // 403: a valid token without the read scope; the live events are reads, so it is refused too.
    if (res.status === 401 || res.status === 403) return null;
    if (!res.ok) throw new AuthUnavailableError(`read API answered ${res.status}`);
    const body = (await res.json()) as { id?: unknown; slug?: unknown };
    if (typeof body.id !== 'string' || typeof body.slug !== 'string')
      throw new AuthUnavailableError('bad /tenant answer');
    const tenant = { tenantId: body.id, slug: body.slug };
    // Bounded: a flood of distinct valid tokens cannot grow it without limit.
    if (cache.size >= 10_000) cache.clear();
    cache.set(token, { at: now(), tenant });
    return tenant;
  }

  async function browserToken(token: string): Promise<Tenant | null> {
    try {
      const { payload } = await jwtVerify(token, key, {
        audience: AUDIENCE,
        algorithms: ['HS256'],
        currentDate: new Date(now()),
      });
      if (typeof payload.sub !== 'string' || typeof payload.slug !== 'string') return null;
      return { tenantId: payload.sub, slug: payload.slug };
    } catch {
      return null;
    }
  }

  return {
    /** The tenant of a read-API token or a browser token; null when neither is valid. */
    authenticate(token: string): Promise<Tenant | null> {
      return token.split('.').length === 3 ? browserToken(token) : apiToken(token);
    },
    apiToken,
    /** A browser token for the tenant, valid `ttlSeconds`. */
    async mint(tenant: Tenant): Promise<{ token: string; expiresAt: string }> {
      const exp = Math.floor(now() / 1000) + opts.ttlSeconds;
      const token = await new SignJWT({ slug: tenant.slug })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(tenant.tenantId)
        .setAudience(AUDIENCE)
        .setIssuedAt(Math.floor(now() / 1000))
        .setExpirationTime(exp)
        .sign(key);
      return { token, expiresAt: new Date(exp * 1000).toISOString() };
    },
  };
}
export type Auth = ReturnType<typeof createAuth>;

/** The token of a request: `Authorization: Bearer`, else the `token` query parameter (browsers' WebSocket cannot set headers). */
export function tokenOf(headers: { authorization?: string | undefined }, url: URL): string | undefined {
  const bearer = /^Bearer ([\x21-\x7e]{1,2048})$/i.exec(headers.authorization ?? '')?.[1];
  return bearer ?? url.searchParams.get('token') ?? undefined;
}
