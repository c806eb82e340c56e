import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);
let pebble: PebbleHandle;
beforeAll(async () => {
  pebble = await startPebble({ config: { certificateValidityPeriod: 3600 } });
});
afterAll(async () => pebble?.stop());

const newHome = () => tempDir('export');
const issue = (home: string, name: string, extra: string[] = [], env?: Record<string, string>) =>
  runCli(['issue', name, ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos', ...extra], { home, ...(env ? { env } : {}) });
const PEM_FILES = ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem'];
const readLineage = (dir: string, files = PEM_FILES) => Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f))]));

async function pkcs12Summary(p12: string, password: string): Promise<{ certs: string; keyPub: string; leafPub: string }> {
  const certs = (await exec('openssl', ['pkcs12', '-in', p12, '-passin', `pass:${password}`, '-nokeys'])).stdout;
  const key = (await exec('openssl', ['pkcs12', '-in', p12, '-passin', `pass:${password}`, '-nocerts', '-nodes'])).stdout;
  const keyFile = `${p12}.key.pem`;
  writeFileSync(keyFile, key);
  const keyPub = (await exec('openssl', ['pkey', '-in', keyFile, '-pubout'])).stdout;
  const leafFile = `${p12}.leaf.pem`;
  writeFileSync(leafFile, certs.slice(certs.indexOf('-----BEGIN CERTIFICATE-----')));
  const leafPub = (await exec('openssl', ['x509', '-in', leafFile, '-noout', '-pubkey'])).stdout;
  return { certs, keyPub, leafPub };
}

describe('export formats', () => {
  it('writes combined.pem and certificate.p12 beside the PEM files at issue time and again on renewal', async () => {
    const home = newHome();
    const passwordFile = join(home, 'p12.pass');
    writeFileSync(passwordFile, 's3cret pass\n', { mode: 0o600 });
    const issued = await issue(home, 'formats.example.test', ['--format', 'combined', '--format', 'pkcs12', '--password-file', passwordFile]);
    expect(issued.code).toBe(0);
    expect(issued.stdout + issued.stderr).not.toContain('s3cret');
    for (const round of ['issue', 'renew']) {
      const live = join(home, 'live', 'formats.example.test');
      const combined = readFileSync(join(live, 'combined.pem'), 'utf8');
      expect(combined, round).toBe(readFileSync(join(live, 'privkey.pem'), 'utf8') + readFileSync(join(live, 'fullchain.pem'), 'utf8'));
      expect(lstatSync(join(live, 'combined.pem')).mode & 0o777).toBe(0o600);
      expect(lstatSync(join(live, 'certificate.p12')).mode & 0o777).toBe(0o600);
      const p12 = await pkcs12Summary(join(live, 'certificate.p12'), 's3cret pass');
      expect(p12.keyPub).toBe(p12.leafPub);
      expect(p12.certs.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
      expect(p12.leafPub).toBe((await exec('openssl', ['x509', '-in', join(live, 'cert.pem'), '-noout', '-pubkey'])).stdout);
      await expect(exec('openssl', ['pkcs12', '-in', join(live, 'certificate.p12'), '-passin', 'pass:wrong', '-nokeys'])).rejects.toThrow();
      if (round === 'issue') {
        const renewed = await runCli(['renew', '--force', '--no-random-sleep', ...pebbleArgs(pebble)], { home });
        expect(renewed.code).toBe(0);
      }
    }
  });

  it('exports on demand to another directory, in the formats asked for', async () => {
    const home = newHome();
    expect((await issue(home, 'ondemand.example.test')).code).toBe(0);
    const out = join(home, 'haproxy');
    const result = await runCli(['export', 'ondemand.example.test', '--out', out, '--format', 'combined,pkcs12'], { home, env: { ACMECTL_PKCS12_PASSWORD: 'from-env' } });
    expect(result.code).toBe(0);
    const dir = join(out, 'ondemand.example.test');
    expect(readFileSync(join(dir, 'combined.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----[\s\S]+-----BEGIN CERTIFICATE-----/);
    const p12 = await pkcs12Summary(join(dir, 'certificate.p12'), 'from-env');
    expect(p12.keyPub).toBe(p12.leafPub);
    const noPassword = await runCli(['export', 'ondemand.example.test', '--out', out, '--format', 'pkcs12'], { home });
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/PKCS#12 export needs a password/);
  });
});

describe('history and rollback', () => {
  it('export --version N puts an earlier version back, byte for byte', async () => {
    const home = newHome();
    const live = join(home, 'live', 'rollback.example.test');
    expect((await issue(home, 'rollback.example.test')).code).toBe(0);
    const v1 = readLineage(live);
    expect((await issue(home, 'rollback.example.test', ['--force'])).code).toBe(0);
    expect((await issue(home, 'rollback.example.test', ['--force'])).code).toBe(0);
    const v3 = readLineage(live);
    expect(v3['cert.pem']).not.toEqual(v1['cert.pem']);

    const shown = JSON.parse((await runCli(['show', 'rollback.example.test', '--json'], { home })).stdout) as { versions: { version: number }[] };
    expect(shown.versions.map((v) => v.version)).toEqual([3, 2, 1]);

    const rolled = await runCli(['export', 'rollback.example.test', '--version', '1'], { home });
    expect(rolled.code).toBe(0);
    expect(rolled.stdout).toMatch(/wrote version 1 of rollback\.example\.test .*the current version is 3/);
    expect(readLineage(live)).toEqual(v1);
    // A rollback stays in place until the next real renewal.
    expect((await issue(home, 'rollback.example.test')).stdout).toMatch(/nothing to do/);
    expect(readLineage(live)).toEqual(v1);
    expect((await runCli(['export', 'rollback.example.test', '--version', '9'], { home })).code).toBe(2);
  });
});

describe('revoke and delete', () => {
  it('revokes at the CA, shows the status, and renew replaces a revoked certificate', async () => {
    const home = newHome();
    expect((await issue(home, 'revoke.example.test')).code).toBe(0);
    const result = await runCli(['revoke', 'revoke.example.test', '--reason', 'superseded', ...pebbleArgs(pebble)], { home });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/revoked revoke\.example\.test \(serial [0-9A-F]+, reason superseded\)/);
    const list = JSON.parse((await runCli(['list', '--json'], { home })).stdout) as { certificates: { name: string; status: string }[] };
    expect(list.certificates).toEqual([expect.objectContaining({ name: 'revoke.example.test', status: 'revoked' })]);
    const again = await runCli(['revoke', 'revoke.example.test', ...pebbleArgs(pebble)], { home });
    expect(again.code).toBe(2);
    const renewed = await runCli(['renew', '--no-random-sleep', ...pebbleArgs(pebble)], { home });
    expect(renewed.stdout).toMatch(/1 renewed/);
    const after = JSON.parse((await runCli(['list', '--json'], { home })).stdout) as { certificates: { status: string }[] };
    expect(after.certificates[0]!.status).toBe('valid');
  });

  it('delete forgets a certificate, and --files removes its files', async () => {
    const home = newHome();
    expect((await issue(home, 'keepfiles.example.test')).code).toBe(0);
    expect((await issue(home, 'dropfiles.example.test')).code).toBe(0);
    expect((await runCli(['delete', 'keepfiles.example.test'], { home })).code).toBe(0);
    expect(existsSync(join(home, 'live', 'keepfiles.example.test', 'fullchain.pem'))).toBe(true);
    expect((await runCli(['delete', 'dropfiles.example.test', '--files'], { home })).code).toBe(0);
    expect(existsSync(join(home, 'live', 'dropfiles.example.test'))).toBe(false);
    expect(readdirSync(join(home, 'live', '.versions'))).toEqual(['keepfiles.example.test']);
    const list = JSON.parse((await runCli(['list', '--json'], { home })).stdout) as { certificates: unknown[] };
    expect(list.certificates).toEqual([]);
    expect((await runCli(['delete', 'dropfiles.example.test'], { home })).code).toBe(2);
  });

  it('revoke --delete forgets it after revoking', async () => {
    const home = newHome();
    expect((await issue(home, 'revdel.example.test')).code).toBe(0);
    const result = await runCli(['revoke', 'revdel.example.test', '--delete', ...pebbleArgs(pebble)], { home });
    expect(result.code).toBe(0);
    expect((await runCli(['show', 'revdel.example.test'], { home })).code).toBe(2);
  });
});
