/**
 * A map keyed by a tuple (`[tenantId, phone]`, `[channelId, customerId]`): the parts are encoded
 * whole, so two different keys can never meet in one joined string, and the tuple's type says
 * which parts a key has. Rows from a set-based statement are matched back to their inputs by it.
 */
export type TupleKey = readonly string[];

export interface KeyedMap<K extends TupleKey, V> {
  get(key: K): V | undefined;
  /** The value under `key`, which the caller knows is there (a row the statement before promised). */
  require(key: K, what: string): V;
  set(key: K, value: V): void;
  has(key: K): boolean;
  values(): IterableIterator<V>;
  readonly size: number;
}

// JSON of an array of strings is injective: quotes and separators inside a part are escaped.
const encode = (key: TupleKey): string => JSON.stringify(key);

export function keyedMap<K extends TupleKey, V>(entries: Iterable<readonly [K, V]> = []): KeyedMap<K, V> {
  const inner = new Map<string, V>();
  const map: KeyedMap<K, V> = {
    get: (key) => inner.get(encode(key)),
    require(key, what) {
      const v = inner.get(encode(key));
      if (v === undefined) throw new Error(`${what} missing for ${encode(key)}`);
      return v;
    },
    set(key, value) {
      inner.set(encode(key), value);
    },
    has: (key) => inner.has(encode(key)),
    values: () => inner.values(),
    get size() {
      return inner.size;
    },
  };
  for (const [k, v] of entries) map.set(k, v);
  return map;
}
