/**
 * What an API token may do. Each route needs one scope and a token has a set; none implies
 * another, so a token is exactly as strong as the scopes it was issued with.
 * - `read`: every lookup, view and preview (GET routes, validate-transition), realtime.
 * - `operate`: operator commands (next chat, release, complete, route to a queue) and a sender's
 *   dispatch reports.
 * - `admin`: changes an operator's tools do not make: manual lead status transitions (seed 002:
 *   only admins update a status), and erasure and retention settings.
 */
export const TOKEN_SCOPES = ['read', 'operate', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const isTokenScope = (s: string): s is TokenScope => (TOKEN_SCOPES as readonly string[]).includes(s);

export type ScopeDecision = { kind: 'allow' } | { kind: 'deny'; missing: TokenScope };

/** Whether a token with `granted` may use a route that needs `required`. */
export const decideScope = (granted: readonly string[], required: TokenScope): ScopeDecision =>
  granted.includes(required) ? { kind: 'allow' } : { kind: 'deny', missing: required };

/**
 * A comma-separated scope list (the CLI's `--scopes read,operate`), deduplicated in the canonical
 * order; an unknown or empty list is an error naming the scopes that exist.
 */
export function parseTokenScopes(text: string): { ok: true; scopes: TokenScope[] } | { ok: false; error: string } {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const unknown = parts.filter((s) => !isTokenScope(s));
  if (parts.length === 0 || unknown.length > 0) {
    const what = parts.length === 0 ? 'no scope' : `unknown scope ${unknown.join(', ')}`;
    return { ok: false, error: `${what}: give one or more of ${TOKEN_SCOPES.join(', ')}` };
  }
  return { ok: true, scopes: TOKEN_SCOPES.filter((s) => parts.includes(s)) };
}
