import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: [
            'shared/**/src/**/*.test.ts',
            'services/**/src/**/*.test.ts',
            'tools/**/src/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: [
            'shared/**/src/**/*.int.test.ts',
            'services/**/src/**/*.int.test.ts',
            'tools/**/src/**/*.int.test.ts',
            'test/**/*.int.test.ts',
          ],
          // test/cluster runs on its own: npm run test:cluster (vitest.cluster.config.ts).
          exclude: ['**/node_modules/**', 'test/faults/**', 'test/cluster/**'],
          globalSetup: ['shared/testing/src/global-setup.ts'],
          setupFiles: ['shared/testing/src/leak-check.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          pool: 'forks',
          maxWorkers: 2,
        },
      },
      {
        // Faults restart the machine's shared broker, database and Redis, and kill processes: they
        // run alone, one file at a time, after the other groups have finished (groupOrder).
        test: {
          name: 'faults',
          sequence: { groupOrder: 2 },
          include: ['test/faults/**/*.int.test.ts'],
          globalSetup: ['shared/testing/src/global-setup.ts'],
          setupFiles: ['shared/testing/src/leak-check.ts'],
          testTimeout: 240_000,
          hookTimeout: 60_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
