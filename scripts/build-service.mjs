// Bundles the service in the current directory into dist/main.js for production: our workspace
// packages are compiled in, npm dependencies stay external (installed with `npm ci --omit=dev`).
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const external = Object.keys(pkg.dependencies ?? {}).filter((name) => !name.startsWith('@switchboard/'));

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  // Dependencies of our workspace packages are npm packages too: keep every bare import external
  // unless it is one of ours.
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
  external,
  logLevel: 'warning',
});
console.log(`built ${pkg.name} → dist/main.js`);
