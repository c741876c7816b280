// Bundles one package for production: `node ../../scripts/build-service.mjs [entry] [outfile]` in a
// package directory (default src/main.ts → dist/main.js), or `bundle(dir, entry, outfile)` from
// scripts/build.mjs. Our workspace packages are compiled in; npm dependencies stay external
// (installed with `npm ci --omit=dev`), so the output runs on plain Node with no tsx.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// The Node major in .nvmrc is the one production runs: the syntax target follows it.
const nodeMajor = readFileSync(fileURLToPath(new URL('../.nvmrc', import.meta.url)), 'utf8').trim();

export async function bundle(dir, entry = 'src/main.ts', outfile = 'dist/main.js') {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  await build({
    absWorkingDir: resolve(dir),
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: `node${nodeMajor}`,
    format: 'esm',
    sourcemap: true,
    // A `bin` is executed directly (npm links it with its mode); the others are run with `node`.
    banner: pkg.bin ? { js: '#!/usr/bin/env node' } : {},
    // Every bare import that is not one of ours is an npm package: keep it external.
    plugins: [
      {
        name: 'externalize-npm',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@switchboard/') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
    logLevel: 'warning',
  });
  console.log(`built ${pkg.name} → ${join(dir, outfile)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundle('.', process.argv[2], process.argv[3]);
}
