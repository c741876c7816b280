import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';

/**
 * One OpenAPI document (`openapi.yaml` at the repository root) describes every service; each
 * service serves at `/docs` the part of it that it registers, so "try it out" stays on its own port
 * and a service never advertises another's routes. The UI's assets come from npm
 * (swagger-ui-dist): nothing is loaded from a CDN.
 */

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * The nearest `openapi.yaml` above `from`. The source (shared/platform/src) and a built service
 * (services/<name>/dist/main.js, in a clone or the image's /app) both sit below the root that has it.
 */
export function findOpenApiFile(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'openapi.yaml');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`openapi.yaml not found in any directory above ${from}`);
  }
}

const recorded = new WeakMap<FastifyInstance, string[]>();

/**
 * Keeps every route `app` registers from now on, as `METHOD /path/{param}` (HEAD, which Fastify
 * adds beside each GET, left out): the list `test/contracts/openapi.test.ts` holds to the document.
 */
export function recordRoutes(app: FastifyInstance): void {
  const routes: string[] = [];
  recorded.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) {
      if (m !== 'HEAD') routes.push(`${m} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    }
  });
}

/** The routes `app` registered since `recordRoutes` (complete once it is ready). */
export const recordedRoutes = (app: FastifyInstance): string[] => [...(recorded.get(app) ?? [])];

let loaded: OpenApiDocument | undefined;

/** The parsed document, read once per process (it never changes while a service runs). */
export function loadOpenApi(): OpenApiDocument {
  loaded ??= parse(readFileSync(findOpenApiFile(), 'utf8')) as OpenApiDocument;
  return loaded;
}

/** `/chats/{id}` → `/chats/:id`, the form Fastify registers. */
export const fastifyPath = (openApiPath: string) => openApiPath.replace(/\{(\w+)\}/g, ':$1');

/** The document with only the operations for which `served(method, path)` holds; empty paths go. */
export function documentFor(
  doc: OpenApiDocument,
  served: (method: string, openApiPath: string) => boolean,
): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    const kept = Object.entries(item).filter(
      ([key]) => !(HTTP_METHODS as readonly string[]).includes(key) || served(key, path),
    );
    if (kept.some(([key]) => (HTTP_METHODS as readonly string[]).includes(key))) paths[path] = Object.fromEntries(kept);
  }
  return { ...doc, paths, servers: [{ url: '/', description: 'this service' }] };
}

/**
 * `/docs` (Swagger UI), `/docs/json` and `/docs/yaml`: the service's part of the document, decided
 * at request time from the routes the app has, so routes added after this call are included. The
 * file is found now (a service without it fails at boot) but parsed on the first request: parsing
 * costs more than building the app, and most processes never serve the docs.
 */
export function registerDocs(app: FastifyInstance): void {
  findOpenApiFile();
  const placeholder = { openapi: '3.1.0', info: { title: 'Switchboard', version: '0' }, paths: {} };
  void app.register(swagger, { mode: 'static', specification: { document: placeholder as never } });
  void app.register(swaggerUi, {
    routePrefix: '/docs',
    logLevel: 'warn',
    transformSpecificationClone: false,
    transformSpecification: () =>
      documentFor(loadOpenApi(), (method, path) =>
        app.hasRoute({ method: method.toUpperCase() as 'GET', url: fastifyPath(path) }),
      ),
  });
}
