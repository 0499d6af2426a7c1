import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 10_000,
          // The projects run one after another (unit, stress, integration): a stress or real-Docker
          // file saturating the machine must not overlap the unit tests' timing windows.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'stress',
          include: ['test/stress/**/*.test.ts'],
          environment: 'node',
          // Thousands of requests and tasks per test on a 2-core machine; each test bounds itself.
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // Both files saturate the machine; run one at a time so neither starves the other's timeouts.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          // Fails the whole run, loudly, when Docker or the test registry is not there.
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One Docker daemon: integration files run one at a time.
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
