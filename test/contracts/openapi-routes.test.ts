import { HTTP_METHODS, loadOpenApi } from '@switchboard/platform';
import { describe, expect, it } from 'vitest';
import { serviceFolders } from '../deploy/repo.ts';
import { routesOf, serviceApps } from './service-apps.ts';

type Operation = { tags?: string[] };
const doc = loadOpenApi();

/** The operations tagged for `tag` (`ops`: every service), as `METHOD /path/{param}`. */
function documented(tag: string): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([m, op]) => (HTTP_METHODS as readonly string[]).includes(m) && (op as Operation).tags?.includes(tag))
        .map(([m]) => `${m.toUpperCase()} ${path}`),
    )
    .sort();
}

// Swagger UI's page assets are files, not API: the document names /docs, /docs/json and /docs/yaml.
const isAsset = (route: string) => /^GET \/docs\/(static\/.*|\*|)$/.test(route);

describe('openapi.yaml against the routes each service registers', () => {
  it.each(Object.keys(serviceApps))('%s: every route documented, every documented route served', async (service) => {
    const build = serviceApps[service] as (typeof serviceApps)[string];
    const registered = (await routesOf(build)).filter((r) => !isAsset(r));
    expect(registered).toEqual([...documented(service), ...documented('ops')].sort());
  });

  it('checks every service under services/', () => {
    // A new service is covered once its routes are tagged in openapi.yaml and its app is built in
    // service-apps.ts (and test/e2e/docs.int.test.ts); until then, this fails.
    expect(Object.keys(serviceApps).sort()).toEqual(serviceFolders());
  });

  it('tags every operation with exactly one service, or ops', () => {
    const tags = new Set([...Object.keys(serviceApps), 'ops']);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(item)) {
        if (!(HTTP_METHODS as readonly string[]).includes(m)) continue;
        const own = (op as Operation).tags ?? [];
        expect(
          own.filter((t) => tags.has(t)),
          `${m} ${path}`,
        ).toHaveLength(1);
      }
    }
  });
});

describe('/docs on every service', () => {
  it.each(Object.keys(serviceApps))('%s serves its own part of the document', async (service) => {
    const app = (serviceApps[service] as (typeof serviceApps)[string])();
    try {
      const json = await app.inject({ method: 'GET', url: '/docs/json' });
      expect(json.statusCode).toBe(200);
      const served = json.json() as typeof doc;
      expect(served.openapi).toBe('3.1.0');
      const paths = Object.keys(served.paths).sort();
      const own = [...documented(service), ...documented('ops')].map((r) => r.split(' ')[1] as string);
      expect(paths).toEqual([...new Set(own)].sort());

      const page = await app.inject({ method: 'GET', url: '/docs' });
      const html =
        page.statusCode === 302 ? await app.inject({ method: 'GET', url: page.headers.location as string }) : page;
      expect(html.statusCode).toBe(200);
      expect(html.headers['content-type']).toMatch(/text\/html/);
      // The UI's script comes from this service (swagger-ui-dist from npm), never a CDN.
      expect(html.body).not.toMatch(/https?:\/\//);
      const script = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
      expect(script.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
