import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { certificateOf, keyMatchesCertificate } from '../support/certificates.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { createWebroot, startNginx } from '../support/nginx.js';
import { storeRevisions, treeSnapshot } from '../support/store-snapshot.js';
import { tempDir } from '../support/temp-dir.js';

let pebble: PebbleHandle;
beforeAll(async () => {
  // Certificates that live 40 s: due after 20 s (half of a lifetime of 10 days or less), far more than a slow
  // machine takes between issuing one and asking whether it is due. No reuse of valid authorizations, so that
  // every renewal is validated again.
  pebble = await startPebble({ config: { certificateValidityPeriod: 40 }, env: { PEBBLE_AUTHZREUSE: '0' } });
});
afterAll(async () => pebble?.stop());

const newHome = () => tempDir('renew');
const cli = (home: string, args: string[]) => runCli([...args, ...pebbleArgs(pebble)], { home });
const issue = (home: string, name: string, extra: string[] = []) =>
  cli(home, ['issue', name, '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos', ...extra]);
const renew = (home: string, extra: string[] = []) => cli(home, ['renew', '--no-random-sleep', ...extra]);
const show = async (home: string, name: string) => JSON.parse((await runCli(['show', name, '--json'], { home })).stdout) as { serial: string; version: number; notBefore: string; versions: { serial: string }[] };
const servedSerial = (home: string, name: string) => certificateOf(join(home, 'live', name, 'cert.pem')).serialNumber.toUpperCase();

async function sleepUntil(time: number): Promise<void> {
  const wait = time - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

describe('acmectl renew', () => {
  it('leaves a certificate alone until it is due, then renews it with the stored settings', async () => {
    const home = newHome();
    expect((await issue(home, 'short.example.test')).code).toBe(0);
    const first = await show(home, 'short.example.test');

    // (That nothing waits when nothing is due is test/e2e/renew-wait-and-dry-run.test.ts's, with a certificate
    // that cannot become due meanwhile.)
    const early = await renew(home);
    expect(early.code).toBe(0);
    expect(early.stdout).toMatch(/^not due short\.example\.test: renewal after /m);
    expect(early.stdout).toMatch(/0 renewed, 1 not due, 0 failed/);
    // Pebble 2.4 offers no renewal information (ARI): the lifetime rule decides, without a warning.
    expect(early.stderr).not.toMatch(/warning|ARI/);
    expect((await show(home, 'short.example.test')).serial).toBe(first.serial);

    // Past half of its 40 s life: due. Only --no-random-sleep is given; port, address and CA come from the store.
    await sleepUntil(new Date(first.notBefore).getTime() + 20_500);
    const due = await runCli(['renew', '--no-random-sleep', '--ca-bundle', pebble.caBundlePath], { home });
    expect(due.stderr).not.toMatch(/error/);
    expect(due.code).toBe(0);
    expect(due.stdout).toMatch(/^renewed short\.example\.test: serial [0-9A-F]+, valid until \S+ \(due: half of the lifetime left\)$/m);
    const second = await show(home, 'short.example.test');
    expect(second.serial).not.toBe(first.serial);
    expect(second.version).toBe(2);
    expect(servedSerial(home, 'short.example.test')).toBe(second.serial);
    expect(await keyMatchesCertificate(join(home, 'live', 'short.example.test'))).toBe(true);
  });

  it('renews when --days says so, and --force renews regardless', async () => {
    const home = newHome();
    expect((await issue(home, 'days.example.test')).code).toBe(0);
    const v1 = await show(home, 'days.example.test');
    expect((await renew(home, ['--days', '0'])).stdout).toMatch(/0 renewed, 1 not due/);
    const byDays = await renew(home, ['--days', '1']); // 40 s left < 1 day
    expect(byDays.stdout).toMatch(/1 renewed, 0 not due, 0 failed/);
    const v2 = await show(home, 'days.example.test');
    expect(v2.serial).not.toBe(v1.serial);
    const forced = await renew(home, ['--force', 'days.example.test']);
    expect(forced.code).toBe(0);
    expect((await show(home, 'days.example.test')).versions.map((v) => v.serial)).toEqual([expect.any(String), v2.serial, v1.serial]);
  });

  it('renews the others when one certificate fails, names the failure and exits 1', async () => {
    const home = newHome();
    for (const name of ['ok1.example.test', 'ok2.example.test']) expect((await issue(home, name)).code).toBe(0);
    // The third certificate is issued through a webroot served by nginx, as on a user's server...
    const webroot = await createWebroot();
    const nginx = await startNginx({ port: pebble.httpPort, root: webroot.root });
    try {
      const issued = await cli(home, ['issue', 'broken.example.test', '--webroot', webroot.root, '--email', 'ops@example.com', '--agree-tos']);
      expect(issued.code).toBe(0);
    } finally {
      await nginx.stop();
    }
    // ...and then its webroot disappears. (Not a DNS failure: Pebble reuses a valid authorization about 1% of the
    // time even with PEBBLE_AUTHZREUSE=0, which would skip validation and let such a renewal pass.)
    rmSync(webroot.root, { recursive: true, force: true });
    const before = await show(home, 'broken.example.test');
    const result = await renew(home, ['--force']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^renewed ok1\.example\.test/m);
    expect(result.stdout).toMatch(/^renewed ok2\.example\.test/m);
    expect(result.stdout).toMatch(/2 renewed, 0 not due, 1 failed/);
    expect(result.stderr).toMatch(/error: broken\.example\.test: the webroot .* stored with this certificate is not a directory any more/);
    expect((await show(home, 'broken.example.test')).serial).toBe(before.serial);
    expect((await show(home, 'ok1.example.test')).version).toBe(2);
  });

  it('refuses an unknown name before doing anything (exit 2)', async () => {
    const home = newHome();
    expect((await issue(home, 'known.example.test')).code).toBe(0);
    const result = await renew(home, ['known.example.test', 'typo.example.test']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no certificate named "typo\.example\.test"/);
    expect((await show(home, 'known.example.test')).version).toBe(1);
  });

  it('--dry-run performs the order but stores nothing, writes no file and runs no hook', async () => {
    const home = newHome();
    const hookLog = join(home, 'hook.log');
    expect((await issue(home, 'dry.example.test', ['--deploy-hook', `echo ran >> ${hookLog}`])).code).toBe(0);
    const hookRunsAfterIssue = readFileSync(hookLog, 'utf8');
    const store = await storeRevisions(join(home, 'acmectl.db'));
    const files = treeSnapshot(join(home, 'live'));

    const result = await renew(home, ['--force', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/dry run: .*nothing will be stored or written/);
    expect(result.stdout).toMatch(/renewed dry\.example\.test: serial [0-9A-F]+, .*\(dry run\)/);
    expect(await storeRevisions(join(home, 'acmectl.db'))).toEqual(store);
    expect(treeSnapshot(join(home, 'live'))).toEqual(files);
    expect(readFileSync(hookLog, 'utf8')).toBe(hookRunsAfterIssue);

    const fresh = newHome();
    const issueDry = await issue(fresh, 'new-dry.example.test', ['--dry-run']);
    expect(issueDry.code).toBe(0);
    expect(issueDry.stdout).toMatch(/dry run: the CA would issue new-dry\.example\.test/);
    expect(treeSnapshot(fresh)).toEqual({});
  });

  it('--dry-run --run-deploy-hooks runs the hooks without renewing', async () => {
    const home = newHome();
    const hookLog = join(home, 'hook.log');
    expect((await issue(home, 'hooktest.example.test', ['--deploy-hook', `echo "$ACMECTL_CERT_NAME $RENEWED_LINEAGE" >> ${hookLog}`])).code).toBe(0);
    const store = await storeRevisions(join(home, 'acmectl.db'));
    const result = await renew(home, ['--force', '--dry-run', '--run-deploy-hooks']);
    expect(result.code).toBe(0);
    expect(readFileSync(hookLog, 'utf8').trim().split('\n')).toEqual([
      `hooktest.example.test ${join(home, 'live', 'hooktest.example.test')}`,
      `hooktest.example.test ${join(home, 'live', 'hooktest.example.test')}`,
    ]);
    expect(await storeRevisions(join(home, 'acmectl.db'))).toEqual(store);
  });
});
