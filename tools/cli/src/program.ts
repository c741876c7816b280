import { Command } from 'commander';
import { registerApiTokens } from './commands/api-tokens.ts';
import { registerArchive } from './commands/archive.ts';
import { registerChannels } from './commands/channels.ts';
import { registerCustomers } from './commands/customers.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDlq } from './commands/dlq.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerMigrateLegacy } from './commands/migrate-legacy.ts';
import { registerRetention } from './commands/retention.ts';
import { registerSeed } from './commands/seed.ts';
import { registerTenants } from './commands/tenants.ts';

/**
 * The whole command tree. Settings made here before the groups register (exitOverride, output)
 * are inherited by every subcommand, so a parse error anywhere becomes a CommanderError that
 * switchboard.ts turns into an exit code.
 */
export function buildProgram(out?: { writeOut: (s: string) => void; writeErr: (s: string) => void }): Command {
  const program = new Command('switchboard')
    .description(
      'Operate a Switchboard installation: database, tenants, channels, tokens, dead letters, retention, erasure',
    )
    .option('--verbose', 'print the stack trace of an error')
    .exitOverride()
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true });
  if (out) program.configureOutput(out);
  for (const register of [
    registerMigrate,
    registerSeed,
    registerTenants,
    registerChannels,
    registerApiTokens,
    registerDlq,
    registerRetention,
    registerArchive,
    registerCustomers,
    registerMigrateLegacy,
    registerDemo,
  ]) {
    register(program);
  }
  return program;
}
