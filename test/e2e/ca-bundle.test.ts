import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

// Pebble's HTTPS certificate comes from a throwaway CA of the harness: a private CA, as step-ca or Infisical
// would be. Every command below that omits --ca-bundle must take it from the store.
let pebble: PebbleHandle;
beforeAll(async () => {
  pebble = await startPebble();
});
afterAll(async () => pebble?.stop());

/** A copy of the CA file that the test can delete: the stored bundle must not depend on the file. */
function bundleCopy(home: string): string {
  const path = join(home, 'private-ca.pem');
  copyFileSync(pebble.caBundlePath, path);
  return path;
}
const server = () => ['--server', pebble.directoryUrl];
const standalone = () => ['--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'];

describe('--ca-bundle is kept with the certificate and the account', () => {
  it('renews, shows and revokes a certificate from a private CA without --ca-bundle, after the file is gone', async () => {
    const home = tempDir('cabundle');
    const bundle = bundleCopy(home);
    const issued = await runCli(['issue', 'private.example.test', ...server(), '--ca-bundle', bundle, ...standalone(), '--email', 'ops@example.com', '--agree-tos'], { home });
    expect(issued.code).toBe(0);
    rmSync(bundle);

    const shown = await runCli(['show', 'private.example.test'], { home });
    expect(shown.stdout).toMatch(/^CA bundle: {3}1 certificate: .+ \(stored with the certificate\)$/m);

    const renewed = await runCli(['renew', 'private.example.test', '--force', '--no-random-sleep'], { home });
    expect(renewed.stderr).not.toMatch(/not trusted/);
    expect(renewed.code).toBe(0);
    expect(renewed.stdout).toMatch(/^renewed private\.example\.test: serial/m);

    const revoked = await runCli(['revoke', 'private.example.test'], { home });
    expect(revoked.stderr).toBe('');
    expect(revoked.code).toBe(0);
  });

  it('uses the bundle an account was registered with for the first issue at that CA', async () => {
    const home = tempDir('cabundle');
    const bundle = bundleCopy(home);
    const registered = await runCli(['account', 'register', ...server(), '--ca-bundle', bundle, '--email', 'ops@example.com', '--agree-tos'], { home });
    expect(registered.code).toBe(0);
    rmSync(bundle);

    const issued = await runCli(['issue', 'via-account.example.test', ...server(), ...standalone()], { home });
    expect(issued.stderr).not.toMatch(/not trusted/);
    expect(issued.code).toBe(0);
    // ...and from then on the certificate carries it.
    expect((await runCli(['renew', '--force', '--no-random-sleep'], { home })).code).toBe(0);
  });

  it('still fails clearly when nothing trusts the CA', async () => {
    const home = tempDir('cabundle');
    const result = await runCli(['issue', 'untrusted.example.test', ...server(), ...standalone(), '--agree-tos'], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/TLS certificate is not trusted/);
    expect(result.stderr).toMatch(/hint: .*--ca-bundle FILE/);
  });

  it('refuses a bundle that is not certificates, or a whole system bundle, before anything is sent (exit 2)', async () => {
    const home = tempDir('cabundle');
    const garbage = join(home, 'garbage.pem');
    writeFileSync(garbage, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    const bad = await runCli(['issue', 'x.example.test', ...server(), '--ca-bundle', garbage, '--agree-tos'], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--ca-bundle ${garbage}: certificate 1 of 1 cannot be read`);

    const huge = join(home, 'huge.pem');
    writeFileSync(huge, `${'# padding\n'.repeat(7000)}`);
    const big = await runCli(['issue', 'x.example.test', ...server(), '--ca-bundle', huge, '--agree-tos'], { home });
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/is larger than 64 KiB/);
  });
});
