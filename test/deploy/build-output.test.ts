import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { root, serviceFolders } from './repo.ts';

const run = promisify(execFile);

/**
 * The image runs `node services/<name>/dist/main.js` for each service and
 * `node tools/cli/dist/switchboard.js` for the CLI (infra/docker/entrypoint.sh): each service's own
 * build must produce that file, as plain JavaScript node can load.
 */
describe('the build output the image starts', () => {
  it.each(serviceFolders())(
    'services/%s builds to dist/main.js',
    async (name) => {
      const started = Date.now();
      await run('npm', ['run', '--silent', 'build', '--workspace', `services/${name}`], { cwd: root });
      const entry = join(root, 'services', name, 'dist', 'main.js');
      expect(statSync(entry).mtimeMs).toBeGreaterThanOrEqual(started - 1_000);
      await run(process.execPath, ['--check', entry]);
    },
    120_000,
  );

  // The CLI package (tools/cli) arrives with the production-build work; until then there is none.
  it.runIf(existsSync(join(root, 'tools/cli/package.json')))(
    'tools/cli builds to dist/switchboard.js',
    async () => {
      await run('npm', ['run', '--silent', 'build', '--workspace', 'tools/cli'], { cwd: root });
      await run(process.execPath, ['--check', join(root, 'tools/cli/dist/switchboard.js')]);
    },
    120_000,
  );
});
