import fc from 'fast-check';

/**
 * How the edge fuzz builds a request: a recipe for the body (which seed, and how it is mutated)
 * and one for the headers, rendered against a route. Recipes are plain data, so fast-check can
 * generate and shrink them; seeds are rendered fresh each time (new delivery ids).
 */
export type BodyRecipe =
  | { kind: 'seed'; seed: number }
  | { kind: 'splice'; seed: number; at: number; cut: number; insert: string }
  | { kind: 'field'; seed: number; path: number; value: unknown; remove: boolean }
  | { kind: 'json'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'constant'; text: string }
  | { kind: 'hostile'; seed: number; path: number; shape: number };

/**
 * What a hostile sender found (issue 13), put at any field of a seed: times no Date can hold, as
 * digits and as numbers; text Postgres cannot store; nesting too deep to encode again.
 */
/** Stands for a field 5,000 levels deep (JSON.stringify cannot write one: spliced in as text). */
const DEEP_FIELD = '@deep-5000@';
export const HOSTILE_SHAPES: Array<() => unknown> = [
  () => '99999999999999999999',
  () => '8640000000001',
  () => 1e20,
  () => 8_640_000_000_001,
  () => 'half \ud83d',
  () => '\ude00 tail',
  () => 'nul \u0000 inside',
  () => DEEP_FIELD,
  () => '2026-13-01 00:00:00+00',
];
const deepText = (levels: number) => `${'['.repeat(levels)}"bottom"${']'.repeat(levels)}`;
/** A whole body of 100,000 nested arrays. */
export const DEEP_BODY = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

const SIGNATURES = [
  'right',
  'missing',
  'garbage',
  'tampered',
  'duplicate',
  'joined',
  'uppercase',
  'recased',
  'padded',
  'truncated',
  'other-encoding',
] as const;
/** Content types a JSON route must accept as JSON (an unmutated seed with one of them is accepted). */
const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'Application/JSON',
];
const OTHER_TYPES = [
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'text/plain',
  'application/xml',
  '',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/json, text/plain',
  'application/jsonx',
];
const ODD_TIMESTAMPS = ['', 'abc', '1e9', '-1', '1700000000.5', ' 1700000000', '99999999999999999999', '0x10', '١٧٠٠'];

export interface HeaderRecipe {
  contentType: string;
  signature: (typeof SIGNATURES)[number];
  garbage: string;
  length: 'right' | 'more' | 'less';
  timestamp: 'now' | 'missing' | 'stale' | 'future' | 'odd';
  odd: string;
}

export const bodyRecipe = (seeds: number): fc.Arbitrary<BodyRecipe> => {
  const seed = fc.nat(seeds - 1);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('seed' as const), seed }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('splice' as const),
        seed,
        at: fc.nat(),
        cut: fc.nat(40),
        insert: fc.string({ maxLength: 20 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('field' as const),
        seed,
        path: fc.nat(),
        value: fc.jsonValue({ maxDepth: 2 }),
        remove: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('json' as const), text: fc.json({ maxDepth: 4 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('hostile' as const),
        seed,
        path: fc.nat(),
        shape: fc.nat(HOSTILE_SHAPES.length - 1),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('constant' as const),
        text: fc.constantFrom(
          '',
          'null',
          '[]',
          '{}',
          '"',
          '{"a":',
          '\u0000',
          '{"entry":[{"changes":[{"value":{"metadata":{"phone_number_id":1}}}]}]}',
          DEEP_BODY,
        ),
      }),
    },
  );
};

export const headerRecipe: fc.Arbitrary<HeaderRecipe> = fc.record({
  contentType: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...JSON_TYPES) }, fc.constantFrom(...OTHER_TYPES)),
  signature: fc.oneof({ weight: 4, arbitrary: fc.constant('right' as const) }, fc.constantFrom(...SIGNATURES)),
  garbage: fc.string({ maxLength: 80 }),
  length: fc.oneof(
    { weight: 4, arbitrary: fc.constant('right' as const) },
    fc.constantFrom('more' as const, 'less' as const),
  ),
  timestamp: fc.oneof(
    { weight: 4, arbitrary: fc.constant('now' as const) },
    fc.constantFrom('missing' as const, 'stale' as const, 'future' as const, 'odd' as const),
  ),
  odd: fc.constantFrom(...ODD_TIMESTAMPS),
});

/** Every property path of a JSON value (objects' keys and arrays' indexes), outermost first. */
function paths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [];
  const keys: Array<string | number> = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => [[...at, k], ...paths((value as Record<string | number, unknown>)[k], [...at, k])]);
}

function replaceField(seed: unknown, r: { path: number; value: unknown; remove: boolean }): string {
  const all = paths(seed);
  const path = all[r.path % Math.max(1, all.length)];
  if (!path) return JSON.stringify(r.value);
  let parent = seed as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  if (r.remove && !Array.isArray(parent)) delete parent[last];
  else parent[last] = r.value;
  return JSON.stringify(seed);
}

function renderBody(seeds: Array<() => unknown>, r: BodyRecipe): string | Buffer {
  const seed = 'seed' in r ? (seeds[r.seed] as () => unknown)() : undefined;
  switch (r.kind) {
    case 'seed':
      return JSON.stringify(seed);
    case 'splice': {
      const s = JSON.stringify(seed);
      const i = r.at % (s.length + 1);
      return s.slice(0, i) + r.insert + s.slice(Math.min(s.length, i + r.cut));
    }
    case 'field':
      return replaceField(seed, r);
    case 'hostile': {
      const value = (HOSTILE_SHAPES[r.shape] as () => unknown)();
      return replaceField(seed, { ...r, value, remove: false }).replace(`"${DEEP_FIELD}"`, () => deepText(5_000));
    }
    case 'json':
    case 'constant':
      return r.text;
    case 'bytes':
      return Buffer.from(r.bytes);
  }
}

/** The signature header as the recipe wants it: right, or wrong in one of the ways senders get it wrong. */
function signatureHeader(right: string, h: HeaderRecipe, encoding: 'hex' | 'base64'): string | string[] | undefined {
  const base64 = encoding === 'base64';
  const digest = right.slice('sha256='.length);
  const flip = (c: string) => (c === 'A' || c === '0' ? (base64 ? 'B' : '1') : base64 ? 'A' : '0');
  switch (h.signature) {
    case 'right':
      return right;
    case 'missing':
      return undefined;
    case 'garbage':
      return h.garbage;
    case 'tampered':
      return right.slice(0, -2) + flip(right.at(-2) as string) + right.slice(-1);
    case 'duplicate':
      return [right, h.garbage];
    case 'joined':
      return `${right}, ${h.garbage}`;
    case 'uppercase':
      return `SHA256=${digest}`;
    case 'recased':
      return `sha256=${digest.toUpperCase()}`;
    case 'padded':
      return `${right} x`;
    case 'truncated':
      return right.slice(0, -4);
    case 'other-encoding':
      return `sha256=${Buffer.from(digest, base64 ? 'base64' : 'hex').toString(base64 ? 'hex' : 'base64')}`;
  }
}

export interface FuzzRoute {
  seeds: Array<() => unknown>;
  header: string;
  encoding: 'hex' | 'base64';
  sign: (body: string | Buffer, timestamp: string) => string;
  timestamped: boolean;
  /** The signature travels in the body (Mailgun): the header recipe's signature does not apply. */
  bodySigned?: boolean;
}

/** The request a recipe makes, and whether it is an unmutated seed sent right (which must be accepted). */
export function render(route: FuzzRoute, b: BodyRecipe, h: HeaderRecipe) {
  const body = renderBody(route.seeds, b);
  const now = Math.floor(Date.now() / 1000);
  const timestamp = String({ now, missing: now, stale: now - 3600, future: now + 3600, odd: h.odd }[h.timestamp]);
  const headers: Record<string, string | string[]> = {};
  if (h.contentType) headers['content-type'] = h.contentType;
  const signature = signatureHeader(route.sign(body, timestamp), h, route.encoding);
  if (signature !== undefined) headers[route.header] = signature;
  if (h.timestamp !== 'missing') headers['x-timestamp'] = timestamp;
  const length = Buffer.byteLength(body);
  if (h.length === 'more') headers['content-length'] = String(length + 1 + (h.garbage.length % 50));
  if (h.length === 'less' && length > 0) headers['content-length'] = String(length - 1);
  const pristine =
    b.kind === 'seed' &&
    (h.signature === 'right' || route.bodySigned === true) &&
    h.length === 'right' &&
    (h.timestamp === 'now' || !route.timestamped) &&
    JSON_TYPES.includes(h.contentType);
  return { body, headers, pristine };
}
