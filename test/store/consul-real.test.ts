/**
 * The store contract against a REAL Consul (test/store/consul.test.ts runs it against the in-repo stand-in).
 * Runs only when ACMECTL_TEST_CONSUL_URL names one; otherwise vitest reports these tests as skipped.
 *
 *   consul agent -dev -client 127.0.0.1                  # or: docker run -p 127.0.0.1:8500:8500 hashicorp/consul
 *   npx tsc -p tsconfig.build.json                       # the cross-process races use the built code
 *   ACMECTL_TEST_CONSUL_URL=consul://127.0.0.1:8500/acmectl-test/ npx vitest run test/store/consul-real.test.ts
 *
 * With ACLs on, give the token as ACMECTL_STORE_TOKEN (or ?token_file=); its policy needs
 * key_prefix "acmectl-test/" write and session_prefix "" write. Every test writes under its own random key
 * namespace, so the KV path may be reused; `consul kv delete -recurse acmectl-test/` cleans up afterwards.
 */
import { describe } from 'vitest';
import { CONSUL_MAX_VALUE_BYTES } from '../../src/store/consul/store.js';
import { openStore } from '../../src/store/open.js';
import { describeStoreContract } from './contract.js';

const consulUrl = process.env['ACMECTL_TEST_CONSUL_URL'];

describe.runIf(consulUrl !== undefined && consulUrl !== '')('consul (real server from ACMECTL_TEST_CONSUL_URL)', () => {
  describeStoreContract('consul (real)', {
    open: () => openStore(consulUrl!),
    url: () => consulUrl!,
    maxValueBytes: CONSUL_MAX_VALUE_BYTES,
  });
});
