// The switchboard command line. Built to tools/cli/dist/switchboard.js (npm run build) for
// production; `npm run switchboard -- …` and the old script names run it with tsx in development.
import { report } from './errors.ts';
import { buildProgram } from './program.ts';

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = report(err, program.opts().verbose === true, (line) => console.error(line));
}
