import { type Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliError, report, unreachable } from './errors.ts';
import { buildProgram } from './program.ts';

// In-process: parse errors and --help are decided before any action opens a connection, so these
// need no Postgres or RabbitMQ. What reaches a server is tested in test/cli/*.int.test.ts.

function parse(...args: string[]) {
  const out: string[] = [];
  const program = buildProgram({ writeOut: (s) => out.push(s), writeErr: (s) => out.push(s) });
  const run = program.parseAsync(['node', 'switchboard', ...args]).then(
    () => 0,
    (err: unknown) => report(err, false, (line) => out.push(line)),
  );
  return run.then((code) => ({ code, output: out.join('') }));
}

const paths = (cmd: Command, prefix: string[] = []): string[][] =>
  cmd.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [[...prefix, c.name()], ...paths(c, [...prefix, c.name()])]);

describe('switchboard --help', () => {
  const all = [[], ...paths(buildProgram())];

  it('covers every group the issue names', () => {
    expect(all.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining([
        'migrate',
        'seed',
        'tenants create',
        'tenants list',
        'tenants disable',
        'channels add',
        'api-tokens revoke',
        'dlq replay',
        'migrate-legacy',
        'demo',
      ]),
    );
  });

  it.each(all.map((p) => [p.join(' ') || '(root)', p]))('%s --help prints usage and exits 0', async (_, path) => {
    const { code, output } = await parse(...(path as string[]), '--help');
    expect(code).toBe(0);
    expect(output).toContain(`Usage: switchboard${path.length ? ` ${path.join(' ')}` : ''}`);
  });
});

describe('bad arguments fail the parse with one line and exit 2', () => {
  it.each([
    [['dlq', 'show', 'q', '--limit', 'abc'], /--limit <n>' argument 'abc' is invalid/],
    [['dlq', 'show', 'q', '--limit', '0'], /whole number from 1/],
    [['channels', 'disable', '--id', 'not-a-uuid'], /not a UUID/],
    [['channels', 'rotate-secret', '--id', 'x'], /not a UUID/],
    [['api-tokens', 'revoke', '--id', "1' or 1=1"], /not a UUID/],
    [['channels', 'add', '--tenant', 'dev', '--provider', 'fax', '--account', 'x'], /Allowed choices are whatsapp/],
    [['tenants', 'create', '--slug', 'Not A Slug', '--name', 'x'], /lowercase letters/],
    [['tenants', 'create', '--slug', 'acme', '--name', 'x', '--time-zone', 'Mars/Base'], /IANA time zone/],
    [['tenants', 'create', '--slug', 'acme'], /required option '--name <name>'/],
    [['migrate-legacy', '--apply', '--dry-run'], /exactly one of/],
    [['migrate-legacy', '--table', 't', '--file', 'f', '--verify'], /cannot be used with/],
    [['tenants', 'frobnicate'], /unknown command 'frobnicate'/],
  ])('%j', async (args, message) => {
    const { code, output } = await parse(...args);
    expect(code).toBe(2);
    expect(output).toMatch(message);
    expect(output.trim().split('\n')).toHaveLength(1);
  });
});

describe('destructive actions without --yes and without a terminal', () => {
  it.each([
    [['channels', 'disable', '--id', '6b1f0c3e-1111-4111-8111-111111111111']],
    [['api-tokens', 'revoke', '--id', '6b1f0c3e-1111-4111-8111-111111111111']],
    [['migrate-legacy', '--rollback']],
  ])('%j refuses before connecting', async (args) => {
    expect(process.stdin.isTTY).toBeFalsy();
    const { code, output } = await parse(...args);
    expect(code).toBe(2);
    expect(output).toMatch(/^switchboard: refusing to .* without --yes/);
  });
});

describe('report', () => {
  it('names the server and where it is, never the password', () => {
    const err = unreachable(
      'RabbitMQ',
      'amqp://guest:s3cret@mq.internal:5673',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    );
    expect(err.message).toBe('cannot reach RabbitMQ at mq.internal:5673 (ECONNREFUSED)');
  });

  it('finds the code inside an AggregateError (localhost tried on IPv4 and IPv6)', () => {
    const inner = Object.assign(new Error('x'), { code: 'ECONNREFUSED' });
    const err = unreachable('Postgres', 'postgres://u@localhost/db', new AggregateError([inner], ''));
    expect(err.message).toBe('cannot reach Postgres at localhost:5432/db (ECONNREFUSED)');
  });

  it('prints the stack only with --verbose, and maps the kind of error to its exit code', () => {
    const lines: string[] = [];
    expect(report(new CliError('no such channel'), false, (l) => lines.push(l))).toBe(1);
    expect(lines).toEqual(['switchboard: no such channel']);
    lines.length = 0;
    expect(report(new Error('boom'), true, (l) => lines.push(l))).toBe(1);
    expect(lines[1]).toMatch(/at /);
    expect(report(new CommanderError(0, 'commander.helpDisplayed', ''), false, () => {})).toBe(0);
    expect(report(new CommanderError(1, 'commander.invalidArgument', ''), false, () => {})).toBe(2);
  });
});
