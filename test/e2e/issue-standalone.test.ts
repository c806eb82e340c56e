import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { certificateOf, describeKey, keyMatchesCertificate, opensslVerify } from '../support/certificates.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

// One Pebble for the file; every test has a data directory of its own and issues what it checks, so that each
// can run alone (-t) or in any order.
let pebble: PebbleHandle;
let root: string;

beforeAll(async () => {
  pebble = await startPebble();
  root = await pebble.rootCertificatePem();
});
afterAll(async () => pebble?.stop());

const newHome = () => tempDir('e2e');
const issue = (home: string, names: string[], extra: string[] = []) =>
  runCli(['issue', ...names, ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos', ...extra], { home });
const showJson = async (home: string, name: string) => JSON.parse((await runCli(['show', name, '--json'], { home })).stdout) as Record<string, any>;
const live = (home: string, name: string) => join(home, 'live', name);

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('acmectl issue --standalone against Pebble', () => {
  it('gets a certificate whose files verify, with the right modes, and stops listening afterwards', async () => {
    const home = newHome();
    const result = await issue(home, ['one.example.test']);
    expect(result.stderr).toContain('one.example.test validated');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/certificate one\.example\.test issued: serial [0-9A-F]+/);
    expect(await opensslVerify(live(home, 'one.example.test'), root, home)).toMatch(/cert\.pem: OK$/);
    expect(await keyMatchesCertificate(live(home, 'one.example.test'))).toBe(true);
    const fullchain = readFileSync(join(live(home, 'one.example.test'), 'fullchain.pem'), 'utf8');
    expect(fullchain).toBe(readFileSync(join(live(home, 'one.example.test'), 'cert.pem'), 'utf8') + readFileSync(join(live(home, 'one.example.test'), 'chain.pem'), 'utf8'));
    expect(certificateOf(join(live(home, 'one.example.test'), 'cert.pem')).subjectAltName).toBe('DNS:one.example.test');
    expect(describeKey(join(live(home, 'one.example.test'), 'privkey.pem'))).toBe('ec prime256v1');
    // modes: key 0600, every directory acmectl made 0700, the store 0600
    expect(statSync(join(live(home, 'one.example.test'), 'privkey.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(live(home, 'one.example.test')).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'live')).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'live', '.versions')).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'acmectl.db')).mode & 0o777).toBe(0o600);
    expect(readlinkSync(live(home, 'one.example.test'))).toBe(join('.versions', 'one.example.test', '1'));
    expect(await portIsFree(pebble.httpPort)).toBe(true);
  });

  it('leaves a valid certificate alone when it is not due, and --force gets a new serial', async () => {
    const home = newHome();
    expect((await issue(home, ['one.example.test'])).code).toBe(0);
    const first = await showJson(home, 'one.example.test');
    const again = await issue(home, ['one.example.test']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/valid until .* not due for renewal .* nothing to do/);
    expect((await showJson(home, 'one.example.test')).serial).toBe(first.serial);

    const forced = await issue(home, ['one.example.test', '--force']);
    expect(forced.code).toBe(0);
    const after = await showJson(home, 'one.example.test');
    expect(after.serial).not.toBe(first.serial);
    expect(after.version).toBe(2);
    expect(after.versions.map((v: { serial: string }) => v.serial)).toEqual([after.serial, first.serial]);
    expect(certificateOf(join(live(home, 'one.example.test'), 'cert.pem')).serialNumber.toUpperCase()).toBe(after.serial);
    expect(await keyMatchesCertificate(live(home, 'one.example.test'))).toBe(true);
  });

  it('issues one certificate for two names, presenting both authorizations', async () => {
    const home = newHome();
    const result = await issue(home, ['multi.example.test', 'www.multi.example.test']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('multi.example.test validated');
    expect(result.stderr).toContain('www.multi.example.test validated');
    const san = certificateOf(join(live(home, 'multi.example.test'), 'cert.pem')).subjectAltName!;
    expect(san.split(', ').sort()).toEqual(['DNS:multi.example.test', 'DNS:www.multi.example.test']);
    expect(await opensslVerify(live(home, 'multi.example.test'), root, home)).toMatch(/OK$/);
  });

  it.each([
    ['ec384', 'ec secp384r1'],
    ['rsa2048', 'rsa 2048'],
  ])('issues with --key-type %s', async (keyType, expected) => {
    const home = newHome();
    const name = `${keyType}.example.test`;
    const result = await issue(home, [name, '--key-type', keyType]);
    expect(result.code).toBe(0);
    expect(describeKey(join(live(home, name), 'privkey.pem'))).toBe(expected);
    expect(await keyMatchesCertificate(live(home, name))).toBe(true);
    expect(await opensslVerify(live(home, name), root, home)).toMatch(/OK$/);
    expect((await showJson(home, name)).keyType).toBe(keyType);
  });

  it('issues for an IP address identifier, converts an IDN to punycode, and honours --name and --out', async () => {
    const home = newHome();
    const out = join(home, 'elsewhere');
    const result = await issue(home, ['bücher.example.test', '127.0.0.1', '--name', 'mixed', '--out', out]);
    expect(result.code).toBe(0);
    const san = certificateOf(join(out, 'mixed', 'cert.pem')).subjectAltName!;
    expect(san.split(', ').sort()).toEqual(['DNS:xn--bcher-kva.example.test', 'IP Address:127.0.0.1']);
    expect(statSync(join(out, 'mixed', 'privkey.pem')).mode & 0o777).toBe(0o600);
  });

  it('creates a missing data directory with mode 0700', async () => {
    const home = newHome();
    const dataDir = join(home, 'new-home', 'acmectl');
    const result = await runCli(['issue', 'datadir.example.test', ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'], { home: dataDir, cwd: home });
    expect(result.code).toBe(0);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'acmectl.db')).mode & 0o777).toBe(0o600);
  });

  it('lists and shows certificates, as a table and as JSON', async () => {
    const home = newHome();
    // Issued out of order: the list is sorted by name.
    expect((await issue(home, ['multi.example.test', 'www.multi.example.test'])).code).toBe(0);
    expect((await issue(home, ['alpha.example.test'])).code).toBe(0);
    const table = await runCli(['list'], { home });
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+DOMAINS\s+NOT AFTER\s+DAYS LEFT\s+STATUS$/);
    expect(table.stdout).toMatch(/^multi\.example\.test\s+multi\.example\.test,www\.multi\.example\.test\s+\S+\s+\d+\s+valid$/m);
    const json = JSON.parse((await runCli(['list', '--json'], { home })).stdout) as { certificates: { name: string; status: string }[] };
    expect(json.certificates.map((c) => c.name)).toEqual(['alpha.example.test', 'multi.example.test']);
    const shown = await runCli(['show', 'multi.example.test'], { home });
    expect(shown.stdout).toMatch(/serial:\s+[0-9A-F]+/);
    expect(shown.stdout).toMatch(/challenge:\s+standalone \(port \d+, 127\.0\.0\.1\)/);
    const pem = await runCli(['show', 'multi.example.test', '--pem'], { home });
    expect(pem.stdout).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(pem.stdout).not.toMatch(/PRIVATE KEY/);
    const missing = await runCli(['show', 'nope.example.test'], { home });
    expect(missing.code).toBe(2);
  });

  it('prints exactly one JSON document with --json', async () => {
    const home = newHome();
    const result = await issue(home, ['json.example.test', '--json']);
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout) as Record<string, any>;
    expect(document).toMatchObject({ ok: true, outcome: 'issued', name: 'json.example.test', version: 1 });
    expect(document.files.privkey).toBe(join(live(home, 'json.example.test'), 'privkey.pem'));
  });

  it('shows why validation failed, per name, when nothing answers the CA (exit 1)', async () => {
    const home = newHome();
    // acmectl listens on another port than the one Pebble connects to, so Pebble's request is refused.
    const elsewhere = String(pebble.httpPort === 65000 ? 65001 : 65000);
    const result = await runCli(['issue', 'refused.example.test', ...pebbleArgs(pebble), '--http-port', elsewhere, '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: validation of refused\.example\.test failed: connection: /);
    // The CA's detail is said once, and the hint names both ports: where the CA knocked, where acmectl listened.
    expect(result.stderr.match(/connection refused/g)).toHaveLength(1);
    expect(result.stderr).toContain(`hint: the CA connected to port ${pebble.httpPort} of refused.example.test, but acmectl listened on port ${elsewhere}`);
    expect((await runCli(['show', 'refused.example.test'], { home })).code).toBe(2);
  });
});
