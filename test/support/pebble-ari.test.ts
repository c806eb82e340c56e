// Tests of the harness's second CA: Pebble 2.10 from Debian unstable (startPebble({ version: 'ari' })), the one
// with ACME Renewal Information and profiles. Later tests of ARI and profiles rely on what these pin down.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { pebbleArgs, REPO_ROOT, runCli } from './cli.js';
import {
  assertAriDirectory,
  DEFAULT_ARI_PROFILES,
  fetchDirectory,
  PEBBLE_ARI_VERSION_PREFIX,
  pebbleAriInstallDir,
  startPebble,
  withPebble,
} from './pebble.js';
import { tempDir } from './temp-dir.js';

const FETCH_SCRIPT = join(REPO_ROOT, 'scripts', 'fetch-pebble.js');

/** GET without any User-Agent header (node sends none unless told), trusting the harness CA. */
function getWithoutUserAgent(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ca, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

describe('Pebble 2.10 (version ari)', () => {
  const pebble = withPebble({ version: 'ari' });
  const home = tempDir('ari-harness');

  it('serves a directory with renewalInfo and the configured profiles', async () => {
    const directory = await fetchDirectory(pebble());
    expect(pebble().version).toBe('ari');
    expect(directory.renewalInfo).toMatch(/^https:\/\/localhost:\d+\/.*renewalInfo$/);
    expect(pebble().renewalInfoUrl).toBe(directory.renewalInfo);
    expect(directory.meta?.profiles).toEqual({
      classic: DEFAULT_ARI_PROFILES['classic']!.description,
      shortlived: DEFAULT_ARI_PROFILES['shortlived']!.description,
    });
    expect(pebble().profiles).toEqual(DEFAULT_ARI_PROFILES);
  });

  it('runs the binary unpacked in the cache folder, not the one on PATH', () => {
    expect(pebble().logs()).toContain(`pebble: ${join(pebbleAriInstallDir(), 'usr', 'bin', 'pebble')} -config `);
  });

  it('refuses requests without a User-Agent; the harness sends one', async () => {
    const ca = readFileSync(pebble().caBundlePath);
    const bare = await getWithoutUserAgent(pebble().directoryUrl, ca);
    expect(bare.status).toBe(400);
    expect(bare.body).toContain('User-Agent');
    expect((await fetchDirectory(pebble())).newOrder).toMatch(/^https:\/\/localhost:/); // requestText, with its User-Agent
  });

  it('moves a certificate acmectl got to the renewal window setRenewalInfo gives, as its renewalInfo (by CertID) shows', async () => {
    const issued = await runCli(
      ['issue', 'ari.example.test', ...pebbleArgs(pebble()), '--http-port', String(pebble().httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'],
      { home },
    );
    expect(issued.code, `${issued.stderr}\n${pebble().logs()}`).toBe(0);
    const lineage = join(home, 'live', 'ari.example.test');
    const certificate = readFileSync(join(lineage, 'cert.pem'), 'utf8');

    const before = await pebble().renewalInfo(certificate);
    expect(before.status, before.body).toBe(200);
    expect(Date.parse(before.suggestedWindow!.start)).toBeGreaterThan(Date.now()); // a new certificate is not due

    const start = new Date(Date.now() - 2 * 3600_000);
    const end = new Date(Date.now() - 3600_000);
    // the full chain, as a test may have it at hand: its first certificate counts
    await pebble().setRenewalInfo(readFileSync(join(lineage, 'fullchain.pem'), 'utf8'), { start, end, explanationURL: 'https://example.test/why' });
    const after = await pebble().renewalInfo(certificate);
    expect(after.status).toBe(200);
    expect(after.suggestedWindow).toEqual({ start: start.toISOString().replace(/\.\d{3}Z$/, 'Z'), end: end.toISOString().replace(/\.\d{3}Z$/, 'Z') });
    expect(after.explanationURL).toBe('https://example.test/why');
    expect(after.retryAfter).toMatch(/^\d+$/);
  });

  it('setRenewalInfo says so when Pebble does not know the certificate', async () => {
    // The harness CA's certificate: a real certificate, but not one this Pebble issued.
    await expect(pebble().setRenewalInfo(readFileSync(pebble().caBundlePath, 'utf8'), { start: new Date(), end: new Date() })).rejects.toThrow(
      /set-renewal-info\/ answered 404 \(not a certificate this Pebble issued/,
    );
    await expect(pebble().setRenewalInfo('not a certificate', { start: new Date(), end: new Date() })).rejects.toThrow(/expected a PEM certificate/);
  });

  it('the ARI check fails on a profile Pebble does not offer', async () => {
    const directory = await fetchDirectory(pebble());
    expect(() => assertAriDirectory(directory, ['classic', 'tlsserver'], 'this Pebble')).toThrow(
      /^this Pebble is not a CA with ARI and profiles: its directory has no profile "tlsserver" in meta\.profiles;/,
    );
  });
});

describe('Pebble 2.10 with profiles of the test’s own', () => {
  const pebble = withPebble({ version: 'ari', profiles: { tlsserver: { description: 'six days', validityPeriod: 6 * 24 * 3600 } } });

  it('offers exactly those', async () => {
    const directory = await fetchDirectory(pebble());
    expect(directory.meta?.profiles).toEqual({ tlsserver: 'six days' });
    const config = JSON.parse(readFileSync(pebble().configPath, 'utf8')) as { pebble: Record<string, unknown> };
    expect(config.pebble['profiles']).toEqual({ tlsserver: { description: 'six days', validityPeriod: 518400 } });
  });
});

describe('Debian stable’s Pebble 2.4 (the default version), a CA without ARI', () => {
  const pebble = withPebble();

  it('fails the ARI check, loudly', async () => {
    const directory = await fetchDirectory(pebble());
    expect(pebble().version).toBe('stable');
    expect(pebble().renewalInfoUrl).toBeUndefined();
    expect(() => assertAriDirectory(directory, Object.keys(DEFAULT_ARI_PROFILES), 'Pebble 2.4')).toThrow(
      /^Pebble 2\.4 is not a CA with ARI and profiles: its directory has no "renewalInfo" \(ACME Renewal Information, RFC 9773\) and no "meta\.profiles"; startPebble\(\{ version: 'ari' \}\) needs Pebble 2\.10\./,
    );
  });

  it('has no ARI helpers and takes no profiles', async () => {
    await expect(pebble().renewalInfo('-----BEGIN CERTIFICATE-----')).rejects.toThrow(/renewalInfo\(\) needs a Pebble with ARI: startPebble\(\{ version: 'ari' \}\)/);
    await expect(pebble().setRenewalInfo('', { start: new Date(), end: new Date() })).rejects.toThrow(/setRenewalInfo\(\) needs a Pebble with ARI/);
    await expect(startPebble({ profiles: { classic: { description: 'x', validityPeriod: 60 } } })).rejects.toThrow(/profiles need version: 'ari'/);
    await expect(startPebble({ version: 'ari', profiles: { classic: { description: 'x', validityPeriod: 0 } } })).rejects.toThrow(
      /profile "classic" must be \{ description: string, validityPeriod: whole seconds > 0 \}/,
    );
  });
});

describe('fetching Pebble 2.10 (scripts/fetch-pebble.js, as the harness does on demand)', () => {
  const cacheHome = tempDir('pebble-cache');

  /** `node scripts/fetch-pebble.js` with its own cache folder, as on a fresh machine. */
  const fetchPebble = () =>
    new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [FETCH_SCRIPT], { env: { ...process.env, XDG_CACHE_HOME: cacheHome }, timeout: 110_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
      );
    });

  it('downloads once when three processes ask at once, cleans up after a killed fetch, and is not repeated', { timeout: 120_000 }, async () => {
    const installDir = pebbleAriInstallDir({ XDG_CACHE_HOME: cacheHome });
    // What a fetch killed half-way leaves: its work folder, and (never by rename, but who knows) an incomplete install.
    await mkdir(`${installDir}.partial-killed/apt`, { recursive: true });
    await mkdir(join(installDir, 'usr', 'bin'), { recursive: true });
    await writeFile(join(installDir, 'usr', 'bin', 'pebble'), 'not pebble');

    const runs = await Promise.all([fetchPebble(), fetchPebble(), fetchPebble()]);
    for (const run of runs) expect(run.code, run.output).toBe(0);
    const downloaded = runs.filter((run) => !run.output.includes('(already in the cache)'));
    expect(downloaded, runs.map((run) => run.output).join('\n---\n')).toHaveLength(1);
    expect(downloaded[0]!.output).toMatch(new RegExp(`fetched Pebble ${PEBBLE_ARI_VERSION_PREFIX.replace('.', '\\.')}\\.`));

    const recordPath = join(installDir, 'acmectl-fetch.json');
    const record = JSON.parse(readFileSync(recordPath, 'utf8')) as { packageVersion: string; sha256: string; fetchedAt: string };
    expect(record.packageVersion.startsWith(`${PEBBLE_ARI_VERSION_PREFIX}.`)).toBe(true);
    expect(record.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(join(cacheHome, 'acmectl-test')).sort()).toEqual([`pebble-${PEBBLE_ARI_VERSION_PREFIX}`, `pebble-${PEBBLE_ARI_VERSION_PREFIX}.lock`]);
    expect(existsSync(join(installDir, 'usr', 'share', 'doc', 'pebble', 'examples', 'pebble-config.json'))).toBe(true);

    const again = await fetchPebble();
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain(`pebble ${record.packageVersion}: ${join(installDir, 'usr', 'bin', 'pebble')} (already in the cache)`);
    expect((JSON.parse(readFileSync(recordPath, 'utf8')) as { fetchedAt: string }).fetchedAt).toBe(record.fetchedAt);
  });
});
