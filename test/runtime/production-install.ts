import { cp, mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, runCommand } from '../cli/run.ts';

// What a production image holds (the Dockerfile's production stage): the package files, the built
// JavaScript, the files the services read at run time (the migrations, openapi.yaml for /docs,
// the console's public/ files), installed with `npm ci --omit=dev`. No TypeScript source, so
// nothing can fall back to tsx.

const WORKSPACES = ['shared', 'services', 'tools'];

/** Builds the repository, copies what production ships into a temp dir and installs it there. */
export async function productionInstall(): Promise<string> {
  const build = await runCommand(process.execPath, ['scripts/build.mjs'], {});
  if (build.code !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-prod-'));
  for (const f of ['package.json', 'package-lock.json', '.npmrc', '.nvmrc', 'openapi.yaml'])
    await cp(join(root, f), join(dir, f));
  for (const group of WORKSPACES) {
    for (const name of await readdir(join(root, group))) {
      const pkg = join(group, name);
      await mkdir(join(dir, pkg), { recursive: true });
      await cp(join(root, pkg, 'package.json'), join(dir, pkg, 'package.json'));
      for (const shipped of ['dist', 'public'])
        await cp(join(root, pkg, shipped), join(dir, pkg, shipped), { recursive: true }).catch(() => undefined);
    }
  }
  await cp(join(root, 'shared/db/migrations'), join(dir, 'shared/db/migrations'), { recursive: true });
  // --prefer-offline: from the npm cache when it has every package (no network), else the registry.
  // --ignore-scripts: nothing we run needs an install script (native addons ship N-API prebuilds).
  const ci = await runCommand(
    'npm',
    ['ci', '--omit=dev', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'],
    {},
    dir,
  );
  if (ci.code !== 0) throw new Error(`npm ci --omit=dev failed: ${ci.stderr}`);
  return dir;
}

/** A port nobody listens on right now (the services take it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
