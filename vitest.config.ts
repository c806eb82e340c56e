import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // e2e suites start their own Pebble on free ports; two cores, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Gives the run its own TMPDIR and fails the run when anything is left in it at the end.
    globalSetup: ['./test/support/temp-guard.ts'],
  },
});
