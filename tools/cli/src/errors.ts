import { ConfigError } from '@switchboard/platform';
import { CommanderError } from 'commander';

/** A failure the user can act on: printed as one line, no stack trace unless --verbose. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Bad arguments exit 2, like commander's own parse errors and the old CLIs. */
export const usageError = (message: string) => new CliError(message, 2);

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNRESET']);
// Postgres answered but refused us: wrong password, no such role, no such database.
const REFUSED = new Set(['28P01', '28000', '3D000']);

const codeOf = (err: unknown): string | undefined => {
  const e = err as { code?: string; errors?: unknown[] };
  return e.code ?? (e.errors ? e.errors.map(codeOf).find(Boolean) : undefined);
};

/** True for "the server is not there or would not let us in", as opposed to a failing query. */
export function isConnectionError(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && (UNREACHABLE.has(code) || REFUSED.has(code));
}

/** "cannot reach Postgres at 127.0.0.1:5432/switchboard (ECONNREFUSED)": where, never the password. */
export function unreachable(what: string, url: string, err: unknown): CliError {
  const u = new URL(url);
  const where = `${u.hostname}:${u.port || (u.protocol.startsWith('amqp') ? 5672 : 5432)}${u.pathname.length > 1 ? u.pathname : ''}`;
  const why = codeOf(err) ?? ((err as Error).message || 'no answer');
  const detail = REFUSED.has(codeOf(err) ?? '') ? `${why}: ${(err as Error).message}` : why;
  return new CliError(`cannot reach ${what} at ${where} (${detail})`, 1);
}

/** Prints what went wrong and returns the exit code. Commander has already printed its own errors. */
export function report(err: unknown, verbose: boolean, print: (line: string) => void): number {
  if (err instanceof CommanderError) {
    return ['commander.helpDisplayed', 'commander.version'].includes(err.code) ? 0 : 2;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const code = e instanceof CliError ? e.exitCode : e instanceof ConfigError ? 2 : 1;
  // One line even for a multi-line message (a config error lists each bad variable on its own line).
  print(`switchboard: ${e.message.replace(/:\n\s*/g, ': ').replace(/\n\s*/g, '; ')}`);
  if (verbose) print(e.stack ?? '');
  else if (!(e instanceof CliError || e instanceof ConfigError)) print('(run with --verbose for the stack trace)');
  return code;
}
