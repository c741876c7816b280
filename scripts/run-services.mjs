// Runs every service that has a services/<name>/src/main.ts (a new service joins by existing), each
// line of its output behind a coloured `[name]` prefix; the line itself is untouched, so a JSON log
// line stays JSON after the prefix.
//
// One Ctrl-C (or SIGTERM) asks every service to stop with SIGTERM and waits for them; a second one,
// or a service still running SHUTDOWN_TIMEOUT_MS + 5 s later, gets SIGKILL. If a service exits on
// its own, the others are stopped and the exit code is 1.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';

const services = readdirSync('services')
  .filter((name) => existsSync(`services/${name}/src/main.ts`))
  .sort();
if (services.length === 0) {
  console.error('run-services: no services/*/src/main.ts found');
  process.exit(1);
}

// Read once; the services get the whole environment unchanged.
const { NO_COLOR, SHUTDOWN_TIMEOUT_MS } = process.env;
const colour = process.stdout.isTTY && !NO_COLOR;
const palette = [36, 35, 33, 32, 34, 31];
const width = Math.max(...services.map((s) => s.length)) + 2;
const killAfterMs = (Number(SHUTDOWN_TIMEOUT_MS) || 15_000) + 5_000;

const running = new Map(); // name -> ChildProcess, until its output is fully read
let stopping = false;
let failed = false;

const prefixOf = (name, i) => {
  const label = `[${name}]`.padEnd(width);
  return colour ? `\x1b[${palette[i % palette.length]}m${label}\x1b[0m ` : `${label} `;
};
const say = (line) => process.stderr.write(`${colour ? '\x1b[1m' : ''}[start]${colour ? '\x1b[0m' : ''} ${line}\n`);

// `npm start | head` closes our stdout: that must not crash the runner and orphan the services.
for (const out of [process.stdout, process.stderr]) out.on('error', () => {});

for (const [i, name] of services.entries()) {
  const prefix = prefixOf(name, i);
  // node --import tsx is what `npx tsx` runs, minus the wrapper process: signals reach the service.
  const child = spawn(process.execPath, ['--import', 'tsx', `services/${name}/src/main.ts`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (l) =>
    process.stdout.write(`${prefix}${l}\n`),
  );
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (l) =>
    process.stderr.write(`${prefix}${l}\n`),
  );
  child.on('error', (err) => say(`${name}: could not start: ${err.message}`));
  // 'close' (not 'exit') fires after the pipes are drained, so the last log lines are not lost.
  child.on('close', (code, signal) => {
    running.delete(name);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (!stopping) {
      say(`${name} exited unexpectedly (${how}); stopping the others`);
      failed = true;
      stop();
    } else if (code !== 0) {
      say(`${name} stopped with ${how}`);
      failed = true;
    }
    if (running.size === 0) {
      say(failed ? 'stopped, with errors' : 'all services stopped');
      process.exit(failed ? 1 : 0);
    }
  });
  running.set(name, child);
}
say(`running ${services.join(', ')}; Ctrl-C stops them all`);

function stop() {
  if (stopping) return;
  stopping = true;
  for (const child of running.values()) child.kill('SIGTERM');
  setTimeout(() => kill(`still running after ${killAfterMs} ms`), killAfterMs).unref();
}

function kill(why) {
  for (const [name, child] of running) {
    say(`${name} ${why}: SIGKILL`);
    child.kill('SIGKILL');
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (!stopping) {
      say(`${signal}: stopping ${[...running.keys()].join(', ')} (again to force)`);
      stop();
    } else {
      failed = true;
      kill(`${signal} again`);
    }
  });
}
// Last resort if the runner itself dies of an exception: never leave services behind.
process.on('exit', () => {
  for (const child of running.values()) child.kill('SIGKILL');
});
