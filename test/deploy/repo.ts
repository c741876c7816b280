import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Helpers the deployment-file tests share: the repository root and the services it has. */
export const root = fileURLToPath(new URL('../../', import.meta.url));
export const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Every service: a folder under services/ with a main.ts. */
export const serviceFolders = (): string[] =>
  readdirSync(join(root, 'services'))
    .filter((name) => existsSync(join(root, 'services', name, 'src', 'main.ts')))
    .sort();

/**
 * The services the deployment files must run: the folders, plus those the design names that are
 * being added on other branches (services/realtime, port 8084). Once the folder exists it is
 * simply one of the folders; until then the files already carry it.
 */
export const deployedServices = (): string[] => [...new Set([...serviceFolders(), 'realtime'])].sort();
