// npm run build: every service that has a services/<name>/src/main.ts (a new service joins by
// existing) to services/<name>/dist/main.js, and the command line to tools/cli/dist/switchboard.js.
// Migrations are not bundled: the CLI reads them from shared/db/migrations (or MIGRATIONS_DIR).
import { existsSync, readdirSync } from 'node:fs';
import { bundle } from './build-service.mjs';

process.chdir(new URL('..', import.meta.url).pathname);
const services = readdirSync('services').filter((name) => existsSync(`services/${name}/src/main.ts`));
await Promise.all([
  ...services.map((name) => bundle(`services/${name}`)),
  bundle('tools/cli', 'src/switchboard.ts', 'dist/switchboard.js'),
]);
