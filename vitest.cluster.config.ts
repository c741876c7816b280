import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the RabbitMQ-cluster fault test, kept out of `npm test` for time (it
 * boots three broker nodes, about a minute on a quiet machine). The test starts and removes its own
 * cluster (scripts/rabbitmq-cluster.sh); the test process itself (event collector, namespace
 * cleanup) talks to node 1, the one that stays up.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.int.test.ts'],
    globalSetup: ['shared/testing/src/global-setup.ts'],
    setupFiles: ['shared/testing/src/leak-check.ts'],
    // Node 1 of scripts/rabbitmq-cluster.sh at its default ports (SB_RMQ_PORT_BASE 45670).
    env: { AMQP_URL: 'amqp://guest:guest@127.0.0.1:45671' },
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
