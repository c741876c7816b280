// Runs every service under services/*/src/main.ts with a coloured log prefix. One Ctrl-C (or a
// SIGTERM) stops them all gracefully; if one exits on its own, the others are stopped too and
// the exit code says so.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';

const services = readdirSync('services').filter((s) => existsSync(`services/${s}/src/main.ts`));
const colours = [36, 35, 33, 32, 34, 31];
const width = Math.max(...services.map((s) => s.length));
const children = new Map();
let stopping = false;
let exitCode = 0;

for (const [i, name] of services.entries()) {
  const child = spawn(process.execPath, ['--import', 'tsx', `services/${name}/src/main.ts`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  const prefix = `\x1b[${colours[i % colours.length]}m${name.padEnd(width)} |\x1b[0m `;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${prefix}${line}\n`));
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`${prefix}exited unexpectedly (${signal ?? `code ${code}`}); stopping the others`);
      exitCode = 1;
      stopAll();
    }
    if (children.size === 0) process.exit(exitCode);
  });
  children.set(name, child);
}
console.log(`started ${services.join(', ')}; Ctrl-C stops them all`);

function stopAll() {
  stopping = true;
  for (const child of children.values()) child.kill('SIGTERM');
}
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
