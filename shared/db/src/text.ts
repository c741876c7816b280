/**
 * Text a customer sends that Postgres cannot hold: U+0000 (text and jsonb refuse it) and lone
 * UTF-16 surrogates (half of an emoji: jsonb refuses its `\ud83d` escape, text stores it as
 * invalid UTF-8). Stored text gets U+FFFD in their place; without this, such a message would fail
 * its transaction on every attempt and end in the dead-letter queue, an accepted message lost.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what Postgres refuses.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function pgSafe<T>(value: T): T {
  if (typeof value === 'string') {
    UNSTORABLE.lastIndex = 0;
    return (UNSTORABLE.test(value) ? value.replace(UNSTORABLE, '\uFFFD') : value) as T;
  }
  if (Array.isArray(value)) return value.map(pgSafe) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [pgSafe(k), pgSafe(v)])) as T;
  }
  return value;
}

/**
 * Whether a JSON text may hold unstorable text: JSON.stringify writes NUL and lone surrogates as
 * `\u0000` / `\udXXX` escapes (UTF-8 bytes cannot carry a lone surrogate), so text without such an
 * escape needs no `pgSafe` walk; the hot path skips it.
 */
export const mayHoldUnstorableText = (json: string): boolean => /\\u(0000|[dD][89a-fA-F])/.test(json);
