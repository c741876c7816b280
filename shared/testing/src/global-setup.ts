import { sweepStaleNamespaces } from './broker.ts';
import { dropStaleTestDatabases, prepareTemplate } from './database.ts';

export default async function setup(): Promise<void> {
  await Promise.all([dropStaleTestDatabases(), sweepStaleNamespaces()]);
  await prepareTemplate();
}
