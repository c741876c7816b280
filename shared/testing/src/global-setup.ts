import { dropStaleTestDatabases, prepareTemplate } from './database.ts';

export default async function setup(): Promise<void> {
  await dropStaleTestDatabases();
  await prepareTemplate();
}
