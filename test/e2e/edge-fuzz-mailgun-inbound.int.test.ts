import { randomBytes } from 'node:crypto';
import { signMailgun } from '@switchboard/platform';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { DEV_MAILGUN_SIGNING_KEY, inboundFields, inboundMultipart, inboundUrlencoded } from '@switchboard/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE_SHAPES } from './edge-fuzz-recipes.ts';

/**
 * The Mailgun inbound route (forms, not JSON, so not in edge-fuzz's JSON recipes), fuzzed with the
 * same promise: never a 5xx while the broker is up, nothing published for a rejected request, and
 * exactly one publish (the email, or its parking) for an accepted one. Fields of the anymail
 * forward are replaced by the hostile shapes of the JSON fuzz (out-of-range numbers, lone
 * surrogates, NUL, 5,000-deep JSON text in `message-headers`, an impossible date), oversized or
 * empty values, or dropped; the signature is right, forged, missing, stale or a replayed token.
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ worker: false, env: { RATE_LIMIT_PER_CHANNEL: '0' } });
});
afterAll(async () => {
  await p.stop();
});

const FIELDS = Object.keys(inboundFields());
const hostileValue = fc.oneof(
  fc.constantFrom(...HOSTILE_SHAPES.map((shape) => String(shape()))),
  fc.constant(`${'['.repeat(5000)}${']'.repeat(5000)}`),
  fc.constant('x'.repeat(50_000)),
  fc.constant(''),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);
const mutation = fc.record({
  field: fc.constantFrom(...FIELDS),
  value: fc.option(hostileValue, { nil: undefined }),
});
const signatureKind = fc.constantFrom('right', 'right', 'right', 'forged', 'missing', 'stale', 'replayed');
const encoding = fc.constantFrom('multipart', 'urlencoded');

const usedTokens: string[] = [];
/** The signature fields for `kind`; `replayed` signs a token an earlier request was accepted with. */
type SignatureFields = { timestamp: string; token: string; signature: string };
function signature(kind: string): SignatureFields {
  const now = Math.floor(Date.now() / 1000);
  const timestamp = String(kind === 'stale' ? now - 3600 : now);
  const token = kind === 'replayed' ? (usedTokens[0] as string) : randomBytes(25).toString('hex');
  // Missing: none of the three fields (the form helpers spread what they are given).
  if (kind === 'missing') return {} as SignatureFields;
  const sig = signMailgun(timestamp, token, kind === 'forged' ? 'not-the-key' : DEV_MAILGUN_SIGNING_KEY);
  return { timestamp, token, signature: sig };
}

const published = async () =>
  (await p.ingest.metrics.publisher.published.get()).values.reduce((s, v) => s + v.value, 0);

describe('fuzz: the Mailgun inbound route', () => {
  it('never answers 5xx, publishes once for what it accepts and nothing for what it refuses', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { maxLength: 4 }), signatureKind, encoding, async (muts, drawn, enc) => {
        // Until a request was accepted there is no token to replay: sign afresh instead.
        const kind = drawn === 'replayed' && usedTokens.length === 0 ? 'right' : drawn;
        const fields = inboundFields();
        for (const m of muts) {
          if (m.value === undefined) delete fields[m.field];
          else fields[m.field] = m.value;
        }
        const sig = signature(kind);
        const req = enc === 'multipart' ? await inboundMultipart(fields, [], sig) : inboundUrlencoded(fields, sig);
        const before = await published();
        const res = await p.ingest.app.inject({ method: 'POST', url: '/webhooks/mailgun/inbound', ...req });
        const after = await published();
        statuses.add(res.statusCode);
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode < 300) {
          expect(kind).toBe('right');
          expect(after - before).toBe(1);
          if (sig.token) usedTokens.push(sig.token);
        } else expect(after).toBe(before);
      }),
      { numRuns: 120 },
    );
    expect([...statuses]).toEqual(expect.arrayContaining([200, 401]));
    expect((await fetch(`${p.ingestUrl}/readyz`)).status).toBe(200);
  }, 240_000);
});
