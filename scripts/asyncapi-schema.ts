/**
 * Prints the JSON Schema of contract schemas as asyncapi.yaml `components/schemas` entries, the
 * dialect the contract test compares against: `npm run asyncapi:schema -- MessageSent ...`.
 * Paste the output, then add descriptions; the test ignores annotations.
 */
import * as contracts from '@switchboard/contracts';
import { stringify } from 'yaml';
import { z } from 'zod';

const names = process.argv.slice(2);
if (names.length === 0) {
  console.error('usage: npm run asyncapi:schema -- <SchemaName>...');
  process.exit(2);
}
/** zod writes its regex for a format beside the format; the format is the contract. */
function dropFormatPatterns(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(dropFormatPatterns);
  if (typeof node !== 'object' || node === null) return node;
  const entries = Object.entries(node).map(([k, v]) => [k, dropFormatPatterns(v)] as const);
  const obj = Object.fromEntries(entries) as Record<string, unknown>;
  if ('format' in obj) delete obj.pattern;
  return obj;
}

const out: Record<string, unknown> = {};
for (const name of names) {
  const schema = (contracts as Record<string, unknown>)[name];
  if (!(schema instanceof z.ZodType)) {
    console.error(`${name} is not a zod schema exported by @switchboard/contracts`);
    process.exit(2);
  }
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  out[name] = dropFormatPatterns(json);
}
process.stdout.write(stringify(out, { indent: 2 }).replace(/^/gm, '    '));
