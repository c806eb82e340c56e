// Certificates for the scale part, written straight into a store through acmectl's own modules (dist/src), as
// `issue` stores a record (src/core/issue.ts): no CA involved. One real key and certificate (made once with
// openssl, signed by a throwaway CA so that the record has a chain) serve under every name.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../../scripts/lib/pebble.js';
import { certificateKey, encodeRecord, readCertificateFacts } from '../../../dist/core/certificate-record.js';
import { mapWithConcurrency } from '../../../dist/domain/concurrency.js';
import { openStore } from '../../../dist/store/open.js';

/**
 * The directory URL stored with the seeded certificates: nothing listens on port 1, so a run that asked this CA
 * anything would fail loudly (a warning per certificate) instead of quietly measuring a request.
 */
export const UNREACHABLE_CA = 'https://127.0.0.1:1/directory';
const DAY_MS = 86_400_000;

/** A 90-day EC P-256 certificate for seed.bench.test with its key and the throwaway CA as its chain. */
export async function makeSeedPems(dir) {
  const openssl = async (args) => {
    const result = await runCommand('openssl', args, { cwd: dir });
    if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.output}`);
  };
  const ecKey = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out'];
  await openssl([...ecKey, 'ca-key.pem']);
  await openssl(['req', '-x509', '-new', '-key', 'ca-key.pem', '-sha256', '-days', '365', '-subj', '/CN=acmectl bench seed CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem']);
  await openssl([...ecKey, 'key.pem']);
  await openssl(['req', '-new', '-key', 'key.pem', '-subj', '/CN=seed.bench.test', '-out', 'leaf.csr']);
  writeFileSync(join(dir, 'leaf.cnf'), 'basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:seed.bench.test\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n');
  await openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-set_serial', '0x1234abcd', '-sha256', '-days', '90', '-extfile', 'leaf.cnf', '-out', 'leaf.pem']);
  const read = (file) => readFileSync(join(dir, file), 'utf8');
  return { certPem: read('leaf.pem'), chainPem: read('ca.pem'), keyPem: read('key.pem') };
}

/** The name of the index-th seeded certificate (1-based). */
export const seededName = (index) => `c${index}.scale.bench.test`;

/**
 * A record as `issue` stores a first certificate: version 1, no history, the settings of a standalone issue,
 * and a stored ARI window (RFC 9773) still to come whose Retry-After has not passed, as a host that renews
 * twice a day against a CA with ARI has most of the time: nothing is due and nothing needs asking.
 */
function seededRecord(name, pems, now) {
  const facts = readCertificateFacts(pems.certPem);
  const at = (days) => new Date(now.getTime() + days * DAY_MS).toISOString();
  return {
    schema: 1,
    name,
    identifiers: [{ type: 'dns', value: name }],
    settings: {
      server: UNREACHABLE_CA,
      challenge: 'standalone',
      httpPort: 80,
      httpAddress: null,
      webroot: null,
      out: null,
      keyType: 'ec256',
      email: null,
      hooks: { pre: null, post: null, deploy: null },
      formats: ['pem'],
      pkcs12PasswordFile: null,
      caBundlePem: null,
      profile: null,
      preferredChain: null,
    },
    current: { version: 1, ...facts, issuedAt: now.toISOString(), certPem: pems.certPem, chainPem: pems.chainPem, keyPem: pems.keyPem, fence: '1' },
    history: [],
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    renewalInfo: { serial: facts.serial, windowStart: at(50), windowEnd: at(52), renewAt: at(51), explanationURL: null, fetchedAt: now.toISOString(), retryAfter: at(1) },
  };
}

/** Writes `count` certificates (seededName(1..count)) into the store at `url`. */
export async function seedStore(url, count, pems) {
  const store = await openStore(url);
  try {
    const now = new Date();
    const indexes = Array.from({ length: count }, (_, index) => index + 1);
    await mapWithConcurrency(indexes, 32, async (index) => {
      const name = seededName(index);
      const written = await store.put(certificateKey(name), encodeRecord(seededRecord(name, pems, now)));
      if (!written.ok) throw new Error(`could not seed ${name}`);
    });
  } finally {
    await store.close();
  }
}
