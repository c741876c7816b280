import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end and resolves with its exit code and output (never rejects on exit != 0). */
export function runCommand(file: string, args: string[], env: Record<string, string>, cwd = root): Promise<CliResult> {
  return new Promise((resolve) => {
    // stdin is a pipe, not a terminal: destructive commands must refuse without --yes.
    execFile(file, args, { cwd, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let built: Promise<string> | undefined;

/**
 * The command line bundled once per test process, as `npm run build` bundles it: plain `node`
 * starts it in a fraction of tsx's time, and it is the artifact production runs. (The old script
 * names, tested with npmRun, go through tsx.) Removed when the process exits.
 */
function builtCli(): Promise<string> {
  built ??= (async () => {
    const out = `dist/test-${process.pid}-${randomUUID().slice(0, 8)}.js`;
    const cwd = join(root, 'tools/cli');
    const r = await runCommand(
      process.execPath,
      [join(root, 'scripts/build-service.mjs'), 'src/switchboard.ts', out],
      {},
      cwd,
    );
    if (r.code !== 0) throw new Error(`building the CLI failed: ${r.stderr}`);
    process.once('exit', () => rmSync(join(cwd, out), { force: true }));
    process.once('exit', () => rmSync(join(cwd, `${out}.map`), { force: true }));
    return join(cwd, out);
  })();
  return built;
}

/** `switchboard <args>` with the test's environment. */
export const switchboard = async (args: string[], env: Record<string, string> = {}) =>
  runCommand(process.execPath, [await builtCli(), ...args], env);

/** `npm run <script> -- <args>`: the old script names must keep working. */
export const npmRun = (script: string, args: string[], env: Record<string, string> = {}) =>
  runCommand('npm', ['run', '--silent', script, '--', ...args], env);

/** One line on stderr, and no stack frame in it. */
export const oneLine = (r: CliResult) => r.stderr.trim().split('\n').length === 1 && !/\n\s+at /.test(r.stderr);
