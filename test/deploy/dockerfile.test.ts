import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Dockerfile, DockerfileParser, type From } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { deployedServices, read, root } from './repo.ts';

const run = promisify(execFile);
const dockerfile: Dockerfile = DockerfileParser.parse(read('Dockerfile'));
const froms = dockerfile.getFROMs();
const stages = froms.map((f) => f.getBuildStage()).filter((s): s is string => s !== null);
const final = dockerfile.getContainingImage(froms.at(-1)?.getRange()?.start ?? { line: 0, character: 0 });
const keyword = (k: string) => final?.getInstructions().filter((i) => i.getKeyword() === k) ?? [];

/** A FROM's image with its `${ARG}` resolved from the ARG defaults before the first FROM. */
function imageOf(from: From): string {
  const image = from.getImage() ?? '';
  return image.replace(/\$\{?(\w+)\}?/g, (_, name: string) => {
    const arg = dockerfile.getInitialARGs().find((a) => a.getProperty()?.getName() === name);
    return arg?.getProperty()?.getValue() ?? '';
  });
}

describe('Dockerfile', () => {
  it('is multi-stage, every stage on a slim Node 24 base or an earlier stage', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    froms.forEach((from, i) => {
      const image = imageOf(from);
      if (stages.slice(0, i).includes(image)) return;
      expect(image, `stage ${i}`).toMatch(/^node:24(\.\d+)*-[a-z]*-?slim$/);
    });
  });

  it('copies only from stages it defines', () => {
    const copies = dockerfile.getCOPYs().flatMap((c) => c.getFlags().filter((f) => f.getName() === 'from'));
    for (const flag of copies) expect(stages).toContain(flag.getValue());
  });

  it('runs as a user that is not root, in production mode', () => {
    const users = keyword('USER').map((u) => u.getArgumentsContent() ?? '');
    expect(users.length).toBeGreaterThan(0);
    const user = (users.at(-1) as string).split(':')[0];
    expect(['root', '0', '']).not.toContain(user);
    expect(keyword('ENV').map((e) => e.getArgumentsContent())).toContain('NODE_ENV=production');
  });

  it('has a HEALTHCHECK that runs a file the image carries', () => {
    const [check] = keyword('HEALTHCHECK');
    expect(check?.getArgumentsContent()).toMatch(/CMD/);
    const file = /"\/app\/([^"]+\.mjs)"/.exec(check?.getArgumentsContent() ?? '')?.[1];
    expect(file).toBeDefined();
    accessSync(join(root, file as string), constants.R_OK);
  });

  it('starts through an executable entrypoint that knows every service', async () => {
    const entry = /"\/app\/([^"]+)"/.exec(keyword('ENTRYPOINT')[0]?.getArgumentsContent() ?? '')?.[1] as string;
    accessSync(join(root, entry), constants.X_OK);
    const cases = /^\s*([\w|\s-]+)\)\s*\n\s*exec node "services\/\$1\/dist\/main.js"/m.exec(read(entry))?.[1] ?? '';
    expect(cases.split('|').map((s) => s.trim())).toEqual(expect.arrayContaining(deployedServices()));
    expect(read(entry)).toMatch(/migrate\)\s*\n\s*exec node tools\/cli\/dist\/switchboard\.js migrate/);
    const { stdout } = await run('sh', [join(root, entry), '--help']);
    expect(stdout).toMatch(/^usage:/);
  });
});

describe('.dockerignore', () => {
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps local installs, builds, secrets and history out of the build context', () => {
    expect(ignored).toEqual(expect.arrayContaining(['.git', '**/node_modules', '**/dist', '.env']));
  });

  it('keeps what the image needs in it', () => {
    for (const needed of ['openapi.yaml', 'package.json', 'package-lock.json', 'shared', 'services', 'infra/docker']) {
      expect(ignored, needed).not.toContain(needed);
    }
  });

  it("keeps every workspace's package file in it (npm ci checks them against the lock)", () => {
    const workspaces: string[] = JSON.parse(read('package.json')).workspaces;
    for (const ws of workspaces.filter((w) => !w.includes('*'))) {
      const excludedBy = ignored.find((e) => ws === e || ws.startsWith(`${e}/`));
      if (excludedBy) expect(ignored, ws).toContain(`!${ws}/package.json`);
    }
  });
});
