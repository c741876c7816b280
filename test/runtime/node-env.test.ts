import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// scripts/node-env.sh, sourced by `npm start`, `npm test` and CI, must hand over from an older
// machine node to the one in .nvmrc, and everything started after it must see only that one.

const root = fileURLToPath(new URL('../..', import.meta.url));
const wanted = readFileSync(`${root}/.nvmrc`, 'utf8').trim();
const machineNode = '/usr/bin/node';
const major = (bin: string) => execFileSync(bin, ['-p', 'process.versions.node.split(".")[0]']).toString().trim();
const older = existsSync(machineNode) && Number(major(machineNode)) < Number(wanted);

/** Sources node-env.sh in a shell whose PATH finds the machine's node first, as `npm start` does. */
const inShell = (script: string, env: Record<string, string> = {}) =>
  execFileSync('bash', ['-c', `. scripts/node-env.sh && ${script}`], {
    cwd: root,
    env: { HOME: process.env.HOME ?? '/root', PATH: '/usr/bin:/bin', npm_node_execpath: machineNode, ...env },
  })
    .toString()
    .trim();

describe.skipIf(!older)('node-env.sh on a machine with an older node', () => {
  it(`puts Node ${wanted} first on PATH for node, npm and what npm runs`, () => {
    expect(inShell('node -v')).toMatch(new RegExp(`^v${wanted}\\.`));
    // npm is a node script: under the new node, what it runs gets that node too.
    expect(inShell("npm exec --yes=false -c 'node -v'")).toMatch(new RegExp(`^v${wanted}\\.`));
    expect(inShell('printenv npm_node_execpath || echo unset')).toBe('unset');
  }, 120_000);

  it('NODE_BOOTSTRAP=0 leaves the machine node alone', () => {
    expect(inShell('node -v', { NODE_BOOTSTRAP: '0' })).toMatch(new RegExp(`^v${major(machineNode)}\\.`));
  });
});
