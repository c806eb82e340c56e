import { configDefaults, defineConfig } from 'vitest/config';

/** Suites that need a real Consul or Vault server: never collected here, run by `npm run test:real-stores`. */
export const REAL_STORE_SUITES = ['test/store/consul-real.test.ts', 'test/store/vault-real.test.ts'];

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...REAL_STORE_SUITES],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // e2e suites start their own Pebble on free ports; two cores, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Fails the run at once when dist/ is not the build of src/ (the e2e tests run the built code); gives the run
    // its own TMPDIR and fails the run when anything is left in it at the end.
    globalSetup: ['./test/support/build-guard.ts', './test/support/temp-guard.ts'],
  },
});
