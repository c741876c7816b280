/**
 * Postgres text and jsonb cannot hold U+0000, and a customer can send it. Stored text gets U+FFFD
 * in its place; without this, such a message would fail its transaction on every attempt and end
 * in the dead-letter queue.
 */
export function pgSafe<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value) as T;
  if (Array.isArray(value)) return value.map(pgSafe) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [pgSafe(k), pgSafe(v)])) as T;
  }
  return value;
}
