// ACME Renewal Information (RFC 9773) against Pebble 2.10: the CA's window decides when a certificate is due.
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ariCertId, requestText } from '../../scripts/lib/pebble.js';
import { certId } from '../../src/acme/ari.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { startPebble, withPebble } from '../support/pebble.js';
import { tempDir } from '../support/temp-dir.js';

// One profile: Pebble 2.10 gives an order without a profile a random one, and lifetimes matter here.
const pebble = withPebble({ version: 'ari', profiles: { classic: { description: '90 days', validityPeriod: 90 * 86_400 } } });

const newHome = () => tempDir('ari');
const cli = (home: string, args: string[]) => runCli([...args, ...pebbleArgs(pebble())], { home });
const issue = (home: string, name: string) =>
  cli(home, ['issue', name, '--http-port', String(pebble().httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos']);
const renew = (home: string, extra: string[] = []) => runCli(['renew', '--no-random-sleep', ...extra], { home });

interface Shown {
  serial: string;
  version: number;
  renewal: { due: boolean; rule: string; at: string; reason: string };
  renewalInfo: { windowStart: string; windowEnd: string; renewAt: string; explanationURL: string | null; fetchedAt: string; askAgainAfter: string } | null;
}
const show = async (home: string, name: string) => JSON.parse((await runCli(['show', name, '--json'], { home })).stdout) as Shown;
/** Pebble logs each request; counted after the last setRenewalInfo (which tests make right before a renew). */
function renewalInfoRequestsSinceLastSet(): number {
  const log = pebble().logs(2000);
  return (log.slice(log.lastIndexOf('POST /set-renewal-info/')).match(/GET \/\S*renewalInfo\//g) ?? []).length;
}
const certificate = (home: string, name: string) => readFileSync(join(home, 'live', name, 'cert.pem'), 'utf8');

describe('renewal information (ARI)', () => {
  it('names the certificate by the CertID Pebble knows it by', async () => {
    const home = newHome();
    expect((await issue(home, 'certid.example.test')).code).toBe(0);
    const pem = certificate(home, 'certid.example.test');
    expect(certId(pem)).toBe(ariCertId(pem));
    const answer = await requestText(`${pebble().renewalInfoUrl}/${certId(pem)}`, { ca: readFileSync(pebble().caBundlePath) });
    expect(answer.status, answer.body).toBe(200);
  });

  it('leaves a certificate alone while its window is to come, and does not ask again before Retry-After', async () => {
    const home = newHome();
    expect((await issue(home, 'future.example.test')).code).toBe(0);
    const start = new Date(Date.now() + 20 * 86_400_000);
    const end = new Date(Date.now() + 22 * 86_400_000);
    await pebble().setRenewalInfo(certificate(home, 'future.example.test'), { start, end, explanationURL: 'https://ca.example.test/why' });

    const first = await renew(home, ['-v']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/warning/);
    expect(first.stderr).toMatch(/future\.example\.test: renewal window \(ARI\) .* \(asked the CA\)/);
    expect(first.stdout).toMatch(/0 renewed, 1 not due, 0 failed/);
    expect(renewalInfoRequestsSinceLastSet()).toBe(1);
    const shown = await show(home, 'future.example.test');
    expect(shown.version).toBe(1);
    expect(shown.renewalInfo).toMatchObject({ windowStart: start.toISOString().replace(/\.\d{3}Z$/, '.000Z'), explanationURL: 'https://ca.example.test/why' });
    const renewAt = Date.parse(shown.renewalInfo!.renewAt);
    expect(renewAt).toBeGreaterThanOrEqual(Math.floor(start.getTime() / 1000) * 1000);
    expect(renewAt).toBeLessThan(end.getTime());
    expect(shown.renewal).toMatchObject({ due: false, rule: 'ari', at: shown.renewalInfo!.renewAt });
    expect(Date.parse(shown.renewalInfo!.askAgainAfter)).toBeGreaterThan(Date.now());

    // Moved into the past at the CA, but the stored Retry-After has not passed: not asked, not renewed.
    await pebble().setRenewalInfo(certificate(home, 'future.example.test'), { start: new Date(Date.now() - 7200_000), end: new Date(Date.now() - 3600_000) });
    const second = await renew(home, ['-v']);
    expect(renewalInfoRequestsSinceLastSet()).toBe(0);
    expect(second.stderr).toMatch(/future\.example\.test: renewal window \(ARI\) .* \(stored, asking again after /);
    expect(second.stdout).toMatch(/0 renewed, 1 not due, 0 failed/);
    expect((await show(home, 'future.example.test')).renewalInfo).toEqual(shown.renewalInfo);

    const text = await runCli(['show', 'future.example.test'], { home });
    expect(text.stdout).toMatch(/^ARI window: {2}\S+ to \S+, renewing at \S+$/m);
    expect(text.stdout).toMatch(/^ARI why: {5}https:\/\/ca\.example\.test\/why$/m);
  });

  it('renews a certificate whose window has come, saying why', async () => {
    const home = newHome();
    expect((await issue(home, 'past.example.test')).code).toBe(0);
    const before = await show(home, 'past.example.test');
    await pebble().setRenewalInfo(certificate(home, 'past.example.test'), { start: new Date(Date.now() - 7200_000), end: new Date(Date.now() - 3600_000) });
    const result = await renew(home);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^past\.example\.test: due: inside the CA's renewal window \(ARI\)$/m);
    expect(result.stdout).toMatch(/^renewed past\.example\.test: serial [0-9A-F]+, valid until \S+ \(due: inside the CA's renewal window \(ARI\)\)$/m);
    const after = await show(home, 'past.example.test');
    expect(after.version).toBe(2);
    expect(after.serial).not.toBe(before.serial);
    expect(after.renewalInfo).toBeNull(); // about the old certificate: the next renew asks about the new one
  });

  it('renews a revoked certificate, saying so', async () => {
    const home = newHome();
    expect((await issue(home, 'revoked.example.test')).code).toBe(0);
    const revoked = await cli(home, ['revoke', 'revoked.example.test']);
    expect(revoked.code, revoked.stderr).toBe(0);
    const result = await renew(home);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^revoked\.example\.test: due: revoked$/m);
    expect((await show(home, 'revoked.example.test')).version).toBe(2);
  });

  it('--days still decides when given, without asking the CA', async () => {
    const home = newHome();
    expect((await issue(home, 'days.example.test')).code).toBe(0);
    await pebble().setRenewalInfo(certificate(home, 'days.example.test'), { start: new Date(Date.now() - 7200_000), end: new Date(Date.now() - 3600_000) });
    const result = await renew(home, ['--days', '10']);
    expect(result.stdout).toMatch(/0 renewed, 1 not due, 0 failed/);
    expect((await show(home, 'days.example.test')).renewalInfo).toBeNull();
  });
});

describe('a CA that does not answer for renewal information', () => {
  it('gets a warning and the lifetime rule; the CA configured now is not asked instead', async () => {
    // The certificate comes from a second Pebble 2.10, stopped before the renewal.
    const issuing = await startPebble({ version: 'ari', profiles: { classic: { description: '90 days', validityPeriod: 90 * 86_400 } } });
    const home = newHome();
    try {
      const issued = await runCli(
        ['issue', 'gone.example.test', ...pebbleArgs(issuing), '--http-port', String(issuing.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'],
        { home },
      );
      expect(issued.code, issued.stderr).toBe(0);
    } finally {
      await issuing.stop();
    }
    const count = () => (pebble().logs(2000).match(/GET \/\S*renewalInfo\//g) ?? []).length;
    const before = count();
    const result = await runCli(['renew', '--no-random-sleep', ...pebbleArgs(pebble())], { home });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      new RegExp(`^warning: gone\\.example\\.test: could not get the renewal window \\(ARI\\) from the CA \\(could not reach the CA at ${issuing.directoryUrl.replace(/[.]/g, '\\.')}: .*\\); using the lifetime rule$`, 'm'),
    );
    expect(result.stdout).toMatch(/0 renewed, 1 not due, 0 failed/);
    expect(count()).toBe(before);
    expect((await show(home, 'gone.example.test')).renewalInfo).toBeNull();
  });
});

describe('replacing a certificate (ARI `replaces`)', () => {
  const log = () => pebble().logs(2000);
  /** The order Pebble issued the certificate with this serial for ("Issued certificate serial 1a2b for order X"). */
  const orderOf = (serialHex: string): string | undefined =>
    [...log().matchAll(/Issued certificate serial ([0-9a-f]+) for order (\S+)/g)].find((m) => BigInt(`0x${m[1]}`) === BigInt(`0x${serialHex}`))?.[2];
  /** The order Pebble took the order `id` to replace ("ARI: order "new" is a replacement of "old""). */
  const replacedBy = (id: string): string | undefined => new RegExp(`ARI: order "${id}" is a replacement of "([^"]+)"`).exec(log())?.[1];

  it('names the old certificate in the renewal order', async () => {
    const home = newHome();
    expect((await issue(home, 'replace.example.test')).code).toBe(0);
    const old = certificate(home, 'replace.example.test');
    const oldSerial = (await show(home, 'replace.example.test')).serial;
    await pebble().setRenewalInfo(old, { start: new Date(Date.now() - 7200_000), end: new Date(Date.now() - 3600_000) });
    const result = await renew(home);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/warning/);
    // acmectl says which CertID it sent; Pebble, which found the old certificate's order by that CertID, says the
    // new certificate's order replaces it.
    expect(result.stderr).toContain(`order created for replace.example.test, replacing ${certId(old)}`);
    const newSerial = (await show(home, 'replace.example.test')).serial;
    expect(replacedBy(orderOf(newSerial)!)).toBe(orderOf(oldSerial));
  });

  it('orders again without `replaces` when the CA says the certificate was already replaced, and says so', async () => {
    const home = newHome();
    expect((await issue(home, 'twice.example.test')).code).toBe(0);
    // A copy of the store as it was before the renewal (a host restored from a backup): same account, same old
    // certificate. Only the store: the exported files' links point into the first home.
    const copy = newHome();
    cpSync(join(home, 'acmectl.db'), join(copy, 'acmectl.db'));
    const first = await renew(home, ['--force']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/replacing /);

    const second = await runCli(['renew', '--no-random-sleep', '--force'], { home: copy });
    expect(second.code, `${second.stderr}\n${pebble().logs(30)}`).toBe(0);
    expect(second.stderr).toMatch(/^warning: twice\.example\.test: the CA refused to let the new certificate replace the old one \(alreadyReplaced: .*\); ordered it without "replaces"$/m);
    expect(second.stdout).toMatch(/1 renewed, 0 not due, 0 failed/);
    expect((await show(copy, 'twice.example.test')).version).toBe(2);
  });
});
