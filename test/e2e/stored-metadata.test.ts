// A run with nothing due and `list` decide on the metadata stored with each version (serial, notBefore,
// notAfter, the CA's renewal window), never on the certificate itself: at 10,000 certificates parsing them
// would cost seconds (issue 12). Checked two ways: a preload counts every X509Certificate the process
// constructs, and one stored certificate cannot be parsed at all.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { renewalSettings } from '../support/renewal-settings.js';
import { certificateKey, encodeRecord } from '../../src/core/certificate-record.js';
import type { CertificateRecord } from '../../src/core/certificate-record.js';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';
import { leafWith, root } from '../support/test-pki.js';

const counter = fileURLToPath(new URL('../support/count-x509-certificates.cjs', import.meta.url));
// Nothing listens there: a run that tried to reach the CA would fail, and say so.
const CA = 'https://127.0.0.1:9/directory';
const DAY_MS = 86_400_000;
const READABLE = 'readable.example.test';
const UNREADABLE = 'unreadable.example.test';

const home = tempDir('stored-metadata');

beforeAll(async () => {
  const now = Date.now();
  const notBefore = new Date(now - DAY_MS);
  const notAfter = new Date(now + 89 * DAY_MS);
  const issuer = root('Metadata Test CA');
  const readable = leafWith({ dns: [READABLE], issuer, notBefore, notAfter });
  const store = await openStore(`sqlite:${join(home, 'acmectl.db')}`);
  try {
    await store.put(certificateKey(READABLE), encodeRecord(record(READABLE, readable.pem, readable.keyPem!, notBefore, notAfter, now)));
    // Base64 that is no DER certificate: any attempt to parse it throws.
    const garbage = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
    await store.put(certificateKey(UNREADABLE), encodeRecord(record(UNREADABLE, garbage, readable.keyPem!, notBefore, notAfter, now)));
  } finally {
    await store.close();
  }
});

/** A record as issue stores it, with a renewal window from the CA that is weeks away and need not be asked again today. */
function record(name: string, certPem: string, keyPem: string, notBefore: Date, notAfter: Date, now: number): CertificateRecord {
  const at = (days: number): string => new Date(now + days * DAY_MS).toISOString();
  const serial = name === READABLE ? 'AA01' : 'BB02';
  const issuedAt = new Date(now).toISOString();
  return {
    schema: 1,
    name,
    identifiers: [{ type: 'dns', value: name }],
    settings: renewalSettings({ server: CA }),
    current: { version: 1, serial, notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString(), issuer: 'Metadata Test CA', issuedAt, certPem, chainPem: '', keyPem, fence: '1' },
    history: [],
    createdAt: issuedAt,
    updatedAt: issuedAt,
    renewalInfo: { serial, windowStart: at(50), windowEnd: at(52), renewAt: at(51), explanationURL: null, fetchedAt: issuedAt, retryAfter: at(1) },
  };
}

/** Runs acmectl in the test's home; returns its result and how many X509Certificate objects it constructed. */
async function runCounting(args: string[]) {
  const record = join(home, `x509-count-${Date.now()}`);
  const result = await runCli(args, { home, env: { NODE_OPTIONS: `--require ${counter}`, RECORD_X509_COUNT: record } });
  return { ...result, certificatesParsed: Number(readFileSync(record, 'utf8')) };
}

describe('deciding on stored metadata', () => {
  it('the counting preload sees a command that does parse certificates', async () => {
    const shown = await runCounting(['show', READABLE]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.certificatesParsed).toBeGreaterThan(0);
  });

  it('a renew with nothing due parses no certificate, and one that cannot be parsed is not due either', async () => {
    // The first run on this host writes the files (its PEM is copied, not read); the second has nothing to do.
    const first = await runCli(['renew', '--no-random-sleep'], { home });
    expect(first.code, first.stderr).toBe(0);
    const idle = await runCounting(['renew', '--no-random-sleep']);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stdout).toMatch(/^0 renewed, 2 not due, 0 failed$/m);
    expect(idle.stderr).not.toMatch(/warning|error/i);
    expect(idle.certificatesParsed).toBe(0);
  });

  it('list shows both from their metadata and parses no certificate', async () => {
    const listed = await runCounting(['list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const certificates = (JSON.parse(listed.stdout) as { certificates: { name: string; serial: string; status: string }[] }).certificates;
    expect(certificates.map((c) => [c.name, c.serial, c.status])).toEqual([
      [READABLE, 'AA01', 'valid'],
      [UNREADABLE, 'BB02', 'valid'],
    ]);
    expect(listed.certificatesParsed).toBe(0);
  });
});
