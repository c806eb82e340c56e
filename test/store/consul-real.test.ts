/**
 * The store contract against a REAL Consul (test/store/consul.test.ts runs it against the in-repo stand-in).
 * Not part of `npm test` (no Consul can be installed where the project runs): `npm run test:real-stores` runs
 * it, and it fails, never skips, when ACMECTL_TEST_CONSUL_URL does not name a server.
 *
 *   consul agent -dev -client 127.0.0.1                  # or: docker run -p 127.0.0.1:8500:8500 hashicorp/consul
 *   ACMECTL_TEST_CONSUL_URL=consul://127.0.0.1:8500/acmectl-test/ npm run test:real-stores -- consul
 *
 * (The script builds first: the cross-process races use the built code.) With ACLs on, give the token as
 * ACMECTL_STORE_TOKEN (or ?token_file=); its policy needs key_prefix "acmectl-test/" write and
 * session_prefix "" write. Every test writes under its own random key namespace, so the KV path may be
 * reused; `consul kv delete -recurse acmectl-test/` cleans up afterwards.
 */
import { describe } from 'vitest';
import { CONSUL_MAX_VALUE_BYTES } from '../../src/store/consul/store.js';
import { openStore } from '../../src/store/open.js';
import { describeStoreContract } from './contract.js';

const consulUrl = process.env['ACMECTL_TEST_CONSUL_URL'] ?? '';
if (consulUrl === '') {
  throw new Error('ACMECTL_TEST_CONSUL_URL is not set: this suite tests a real Consul and needs its store URL (see the top of this file)');
}

describe('consul (real server from ACMECTL_TEST_CONSUL_URL)', () => {
  describeStoreContract('consul (real)', {
    open: () => openStore(consulUrl),
    url: () => consulUrl,
    maxValueBytes: CONSUL_MAX_VALUE_BYTES,
  });
});
