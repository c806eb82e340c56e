// `npm run test:real-stores`: the store contract against a REAL Consul and/or Vault, which cannot be installed
// on the machines the project runs on (the default run tests the stand-ins). Each suite fails, rather than
// being skipped, when its server's URL is not given: see test/store/consul-real.test.ts and vault-real.test.ts.
import { configDefaults, defineConfig } from 'vitest/config';
import base, { REAL_STORE_SUITES } from './vitest.config.js';

export default defineConfig({ ...base, test: { ...base.test, include: REAL_STORE_SUITES, exclude: configDefaults.exclude } });
