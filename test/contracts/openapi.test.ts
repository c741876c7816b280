import SwaggerParser from '@apidevtools/swagger-parser';
import { findOpenApiFile, HTTP_METHODS, loadOpenApi } from '@switchboard/platform';
import { describe, expect, it } from 'vitest';

type Parameter = { name?: string; in?: string; $ref?: string };
type Operation = { parameters?: Parameter[]; responses?: Record<string, unknown> };
type Response = { content?: Record<string, { schema?: unknown }> };
const doc = loadOpenApi() as ReturnType<typeof loadOpenApi> & {
  components: { parameters: Record<string, { name: string; in: string }>; schemas: Record<string, unknown> };
};
const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([m]) => (HTTP_METHODS as readonly string[]).includes(m))
      .map(([method, op]) => ({ path, method, op: op as Operation })),
  );

describe('openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document (schema and every $ref)', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(findOpenApiFile())).resolves.toBeTruthy();
  });

  it('declares every path parameter of every route', () => {
    for (const { path, method, op } of operations()) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? [])
        .map((p) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop() as string] : p))
        .filter((p) => p?.in === 'path')
        .map((p) => p?.name);
      expect(declared.sort(), `${method} ${path}`).toEqual(inPath.sort());
    }
  });

  // 204 and a WebSocket upgrade's 101 have no body; 101 is the upgrade route's success.
  it('gives every response but a 204 or 101 a body with a schema, errors the one Error shape', async () => {
    const resolved = (await SwaggerParser.dereference(structuredClone(doc) as never)) as unknown as typeof doc;
    const errorShape = (resolved.components.schemas as { Error: unknown }).Error;
    for (const [path, item] of Object.entries(resolved.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
        if (!(HTTP_METHODS as readonly string[]).includes(method)) continue;
        const responses = Object.entries(op.responses ?? {}) as Array<[string, Response]>;
        expect(
          responses.some(([c]) => c.startsWith('2') || c === '101'),
          `${method} ${path}`,
        ).toBe(true);
        for (const [code, res] of responses.filter(([c]) => c !== '204' && c !== '101')) {
          const schemas = Object.values(res.content ?? {}).map((m) => m.schema);
          expect(schemas.length > 0 && schemas.every(Boolean), `${method} ${path} ${code}`).toBe(true);
          // /readyz's 503 is its report (which check failed), not an error.
          if (Number(code) >= 400 && path !== '/readyz')
            expect(schemas, `${method} ${path} ${code}`).toEqual(schemas.map(() => errorShape));
        }
      }
    }
  });
});
