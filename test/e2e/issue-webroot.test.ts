import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { keyMatchesCertificate, opensslVerify } from '../support/certificates.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { startNginx } from '../support/nginx.js';
import { tempDir } from '../support/temp-dir.js';

let pebble: PebbleHandle;
let nginx: { stop(): Promise<void> };
let home: string;
let served: string;

/** A document root as on a user's server: world-traversable, so nginx's unprivileged workers can read it. */
function documentRoot(): string {
  const dir = tempDir('www');
  chmodSync(dir, 0o755);
  return dir;
}

beforeAll(async () => {
  pebble = await startPebble();
  served = documentRoot();
  // nginx answers on the port where Pebble validates, serving `served`, as on a user's web server.
  nginx = await startNginx({ port: pebble.httpPort, root: served });
  home = tempDir('e2e');
});
afterAll(async () => {
  await nginx?.stop();
  await pebble?.stop();
});

const issue = (names: string[], webroot: string) =>
  runCli(['issue', ...names, ...pebbleArgs(pebble), '--webroot', webroot, '--email', 'ops@example.com', '--agree-tos'], { home });

describe('acmectl issue --webroot with nginx serving the webroot', () => {
  it('gets a certificate and leaves the webroot as it was', async () => {
    const result = await issue(['web.example.test', 'www.web.example.test'], served);
    expect(result.stderr).toContain('www.web.example.test validated');
    expect(result.code).toBe(0);
    const live = join(home, 'live', 'web.example.test');
    expect(await opensslVerify(live, await pebble.rootCertificatePem(), home)).toMatch(/OK$/);
    expect(await keyMatchesCertificate(live)).toBe(true);
    expect(readdirSync(served)).toEqual([]);
    const shown = JSON.parse((await runCli(['show', 'web.example.test', '--json'], { home })).stdout) as { settings: { challenge: string; webroot: string } };
    expect(shown.settings).toMatchObject({ challenge: 'webroot', webroot: served });
  });

  it('keeps what the user had under .well-known', async () => {
    mkdirSync(join(served, '.well-known'), { mode: 0o755 });
    chmodSync(join(served, '.well-known'), 0o755);
    writeFileSync(join(served, '.well-known', 'security.txt'), 'Contact: mailto:security@example.com\n');
    const result = await issue(['keep.example.test'], served);
    expect(result.code).toBe(0);
    expect(readdirSync(join(served, '.well-known'))).toEqual(['security.txt']);
  });

  it('removes its token files when validation fails, and says why per name (exit 1)', async () => {
    // A webroot nginx does not serve: the CA gets 404 for the token.
    const unserved = documentRoot();
    const result = await issue(['unserved.example.test'], unserved);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: validation of unserved\.example\.test failed: unauthorized: .*404/);
    expect(result.stderr.match(/returned 404/g)).toHaveLength(1);
    expect(result.stderr).toMatch(/hint: the CA did not get the token file from .+\/\.well-known\/acme-challenge\/: check that your web server serves http:\/\/unserved\.example\.test:\d+\/\.well-known\/acme-challenge\/ from that directory/);
    expect(existsSync(join(unserved, '.well-known'))).toBe(false);
    expect(readdirSync(unserved)).toEqual([]);
  });
});
