import { randomBytes } from 'node:crypto';
import { createDb, devTenant, seedTenant } from '@switchboard/db';
import { createTestDatabase, deleteNamespace, deleteRedisKeys, prepareTemplate, testUrls } from '@switchboard/testing';

/**
 * What one bench run owns on the shared Postgres, RabbitMQ and Redis: its own database (cloned
 * from the migrated test template, dev tenant seeded), AMQP namespace and Redis key prefix, so
 * concurrent test runs never see its traffic. `cleanup()` removes all of it; a run killed before
 * that leaves a database named like a test database, which the test setup sweeps after an hour.
 */
export interface BenchEnv {
  runId: string;
  /** As the tables' owner: seeding, the bench's own checks, the baseline. */
  databaseUrl: string;
  /** As the services' role (switchboard_app), under Row-Level Security. */
  appDatabaseUrl: string;
  databaseName: string;
  amqpUrl: string;
  redisUrl: string;
  namespace: string;
  redisPrefix: string;
  /** Queues created outside the topology (the baseline's), deleted at cleanup. */
  extraQueues: Set<string>;
  cleanup: () => Promise<void>;
}

export async function createBenchEnv(log: (line: string) => void): Promise<BenchEnv> {
  const runId = randomBytes(4).toString('hex');
  const namespace = `bench-${runId}.`;
  const redisPrefix = `bench:${runId}:`;
  await prepareTemplate();
  const database = await createTestDatabase();
  const { pool, db } = createDb(database.url, { max: 1, applicationName: 'bench-seed' });
  try {
    await seedTenant(db, devTenant);
  } catch (err) {
    await database.drop().catch(() => undefined);
    throw err;
  } finally {
    await pool.end();
  }
  log(`run ${runId}: database ${database.name}, AMQP namespace ${namespace}, Redis prefix ${redisPrefix}`);

  const extraQueues = new Set<string>();
  return {
    runId,
    databaseUrl: database.url,
    appDatabaseUrl: database.appUrl,
    databaseName: database.name,
    amqpUrl: testUrls.amqp,
    redisUrl: testUrls.redis,
    namespace,
    redisPrefix,
    extraQueues,
    cleanup: async () => {
      const steps: Array<[string, () => Promise<unknown>]> = [
        [`database ${database.name}`, () => database.drop()],
        [`AMQP names ${namespace}*`, () => deleteNamespace(namespace, { extraQueues: [...extraQueues] })],
        [`Redis keys ${redisPrefix}*`, () => deleteRedisKeys(redisPrefix)],
      ];
      await Promise.all(
        steps.map(async ([what, step]) => {
          // The shared servers may be mid-restart (the fault tests restart them): try for a while.
          for (let attempt = 1; ; attempt++) {
            try {
              return await step();
            } catch (err) {
              if (attempt >= 5) return log(`could not remove ${what}, remove it by hand: ${String(err)}`);
              await new Promise((r) => setTimeout(r, 2_000));
            }
          }
        }),
      );
    },
  };
}
