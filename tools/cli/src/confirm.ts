import { createInterface } from 'node:readline/promises';
import { CliError, usageError } from './errors.ts';

/**
 * Asks before a destructive action. `--yes` skips the question; without it and without a terminal
 * to ask on (a script, a pipe, CI) the action is refused rather than taken silently.
 */
export async function confirm(action: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw usageError(`refusing to ${action} without --yes (no terminal to ask on)`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${action}? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('aborted, nothing changed', 1);
  } finally {
    rl.close();
  }
}
