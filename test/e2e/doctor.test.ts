import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { createWebroot, startNginx } from '../support/nginx.js';
import type { NginxHandle } from '../support/nginx.js';
import { startRateLimitingProxy } from '../support/rate-limiting-proxy.js';
import { tempDir } from '../support/temp-dir.js';

interface Check {
  name: string;
  certificate: string | null;
  verdict: 'ok' | 'warn' | 'fail';
  detail: string;
  fix: string | null;
}

let pebble: PebbleHandle;
let nginx: NginxHandle;
let served: string;

beforeAll(async () => {
  pebble = await startPebble();
  served = (await createWebroot()).root;
  // nginx serves `served` where Pebble validates, as a user's web server does on port 80.
  nginx = await startNginx({ port: pebble.httpPort, root: served });
});
afterAll(async () => {
  await nginx?.stop();
  await pebble?.stop();
});

/** The test's names resolve nowhere on this machine: ACMECTL_RESOLVE points them at nginx's address for the probe. */
const resolveTo = (names: string[], address = '127.0.0.1'): Record<string, string> => ({ ACMECTL_RESOLVE: names.map((n) => `${n}:${address}`).join(',') });

const issueWebroot = (home: string, names: string[], webroot: string, env: Record<string, string>, extra: string[] = []) =>
  runCli(['issue', ...names, ...pebbleArgs(pebble), '--webroot', webroot, '--http-port', String(pebble.httpPort), '--email', 'ops@example.com', '--agree-tos', ...extra], { home, env });

async function doctorJson(home: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; ok: boolean; checks: Check[]; stderr: string }> {
  const result = await runCli(['doctor', ...pebbleArgs(pebble), '--json', ...args], { home, env });
  const document = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
  return { code: result.code, ok: document.ok, checks: document.checks, stderr: result.stderr };
}

const checkOf = (checks: Check[], name: string, certificate: string | null = null): Check => {
  const found = checks.find((c) => c.name === name && c.certificate === certificate);
  if (!found) throw new Error(`no ${name} check for ${certificate}: ${JSON.stringify(checks, null, 2)}`);
  return found;
};

describe('acmectl doctor', () => {
  it('passes every check on a healthy setup: a webroot nginx serves, the store, the CA and the clock (exit 0, --json)', async () => {
    const home = tempDir('doctor');
    const names = ['healthy.example.test', 'www.healthy.example.test'];
    const issued = await issueWebroot(home, names, served, resolveTo(names));
    expect(issued.stderr).toMatch(/webroot probe: served through healthy\.example\.test at 127\.0\.0\.1 \(IPv4\), www\.healthy\.example\.test at 127\.0\.0\.1 \(IPv4\)/);
    expect(issued.code).toBe(0);

    const result = await doctorJson(home, ['--http-port', String(await freePort())], resolveTo(names));
    expect(result.checks.filter((c) => c.verdict !== 'ok')).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => `${c.name}:${c.certificate ?? '-'}`)).toEqual([
      'store:-',
      'ca:-',
      'clock:-',
      'http-port:-',
      'out-dir:-',
      'webroot:healthy.example.test',
      'out-dir:healthy.example.test',
    ]);
    for (const check of result.checks) expect(Object.keys(check).sort()).toEqual(['certificate', 'detail', 'fix', 'name', 'verdict']);
    expect(checkOf(result.checks, 'ca').detail).toContain(pebble.directoryUrl);
    expect(checkOf(result.checks, 'webroot', 'healthy.example.test').detail).toMatch(/served through healthy\.example\.test at 127\.0\.0\.1 \(IPv4\), www\.healthy\.example\.test at 127\.0\.0\.1/);
    // The probe left the webroot as it was.
    expect(readdirSync(served)).toEqual([]);

    const human = await runCli(['doctor', ...pebbleArgs(pebble), 'healthy.example.test'], { home, env: resolveTo(names) });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ok {4}healthy\.example\.test webroot: served through /m);
    expect(human.stdout).toMatch(/^\d+ ok, 0 warnings, 0 failed$/m);
  });

  it('fails the webroot check, with its fix, when nginx serves another directory (exit 1); renew stops before ordering', async () => {
    const home = tempDir('doctor');
    const names = ['moved.example.test'];
    expect((await issueWebroot(home, names, served, resolveTo(names))).code).toBe(0);
    // The web server's document root changes: the stored webroot is not served any more.
    const elsewhere = (await createWebroot()).root;
    await nginx.stop();
    nginx = await startNginx({ port: pebble.httpPort, root: elsewhere });
    try {
      const result = await doctorJson(home, ['moved.example.test'], resolveTo(names));
      expect(result.code).toBe(1);
      expect(result.ok).toBe(false);
      const webroot = checkOf(result.checks, 'webroot', 'moved.example.test');
      expect(webroot.verdict).toBe('fail');
      expect(webroot.detail).toMatch(/^moved\.example\.test at 127\.0\.0\.1 \(IPv4\) answered 404 instead of the probe token$/);
      expect(webroot.fix).toContain(`make the web server for moved.example.test serve ${served}/.well-known/acme-challenge/ at http://moved.example.test:${pebble.httpPort}/.well-known/acme-challenge/`);

      const renewed = await runCli(['renew', '--force', ...pebbleArgs(pebble)], { home, env: resolveTo(names) });
      expect(renewed.code).toBe(1);
      expect(renewed.stderr).toMatch(/error: moved\.example\.test: the webroot probe failed: moved\.example\.test at 127\.0\.0\.1 \(IPv4\) answered 404/);
      expect(renewed.stderr).toMatch(/hint: make the web server .*; --no-preflight skips the probe/);
      expect(renewed.stderr).not.toMatch(/order created|contacting the CA/);
    } finally {
      await nginx.stop();
      nginx = await startNginx({ port: pebble.httpPort, root: served });
    }
  });

  it('fails when the AAAA record points at a server that does not serve the webroot, though IPv4 does', async () => {
    const home = tempDir('doctor');
    const names = ['dual.example.test'];
    expect((await issueWebroot(home, names, served, resolveTo(names))).code).toBe(0);
    // Another web server on the IPv6 address, answering 404 for everything.
    const other: Server = createServer((_request, response) => response.writeHead(404).end('not here\n'));
    await new Promise<void>((resolve) => other.listen(pebble.httpPort, '::1', resolve));
    try {
      const env = { ACMECTL_RESOLVE: 'dual.example.test:127.0.0.1,dual.example.test:[::1]' };
      const result = await doctorJson(home, ['dual.example.test'], env);
      expect(result.code).toBe(1);
      const webroot = checkOf(result.checks, 'webroot', 'dual.example.test');
      expect(webroot.verdict).toBe('fail');
      expect(webroot.detail).toBe('dual.example.test at ::1 (IPv6) answered 404 instead of the probe token; served through dual.example.test at 127.0.0.1 (IPv4)');
      expect(webroot.fix).toMatch(/^the AAAA record of dual\.example\.test points at ::1, where the web server does not serve /);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('says which process holds the HTTP port (a warning: exit 0)', async () => {
    const home = tempDir('doctor');
    const result = await doctorJson(home, ['--http-port', String(pebble.httpPort)]);
    const port = checkOf(result.checks, 'http-port');
    expect(port.verdict).toBe('warn');
    expect(port.detail).toMatch(new RegExp(`^port ${pebble.httpPort} is held by nginx \\(pid ${nginx.pid}\\b`));
    expect(port.fix).toMatch(/stop it with --pre-hook/);
    expect(result.code).toBe(0);
  });

  it('fails a stored hook whose program is missing', async () => {
    const home = tempDir('doctor');
    const names = ['hooked.example.test'];
    // The hook fails already when the certificate is issued (exit 1); the certificate is kept, with its hook.
    const issued = await issueWebroot(home, names, served, resolveTo(names), ['--post-hook', 'no-such-reload-tool nginx']);
    expect(issued.stdout).toMatch(/certificate hooked\.example\.test issued/);
    const result = await doctorJson(home, ['hooked.example.test'], resolveTo(names));
    expect(result.code).toBe(1);
    expect(checkOf(result.checks, 'hooks', 'hooked.example.test')).toMatchObject({ verdict: 'fail', detail: 'the post hook "no-such-reload-tool nginx": no-such-reload-tool is not found on PATH' });
  });
});

describe('the webroot preflight of issue', () => {
  it('stops before anything is sent to the CA when the webroot is not served (exit 1); --no-preflight orders anyway', async () => {
    const proxy = await startRateLimitingProxy(pebble);
    try {
      const home = tempDir('doctor');
      const unserved = (await createWebroot()).root;
      const issue = (extra: string[]) =>
        runCli(['issue', 'pre.example.test', '--server', proxy.directoryUrl, '--ca-bundle', pebble.caBundlePath, '--webroot', unserved, '--http-port', String(pebble.httpPort), '--email', 'ops@example.com', '--agree-tos', ...extra], {
          home,
          env: resolveTo(['pre.example.test']),
        });
      const stopped = await issue([]);
      expect(stopped.code).toBe(1);
      expect(stopped.stderr).toMatch(/error: the webroot probe failed: pre\.example\.test at 127\.0\.0\.1 \(IPv4\) answered 404 instead of the probe token/);
      expect(stopped.stderr).toContain(`hint: make the web server for pre.example.test serve ${unserved}/.well-known/acme-challenge/`);
      expect(proxy.requests).toEqual([]);
      expect(readdirSync(unserved)).toEqual([]);

      const ordered = await issue(['--no-preflight']);
      expect(ordered.code).toBe(1);
      // At least one: Pebble rejects a share of nonces on purpose, and a rejected newOrder is sent again.
      expect(proxy.count('POST', '/order-plz')).toBeGreaterThanOrEqual(1);
      expect(ordered.stderr).toMatch(/validation of pre\.example\.test failed/);
      expect(ordered.stderr).not.toMatch(/webroot probe/);
    } finally {
      await proxy.stop();
    }
  });

  it('only warns for names that do not resolve on this machine, and orders', async () => {
    const home = tempDir('doctor');
    const result = await issueWebroot(home, ['unresolved.example.test'], served, {});
    expect(result.stderr).toMatch(/warning: webroot probe: unresolved\.example\.test was not probed: it has no A or AAAA record on this machine/);
    expect(result.code).toBe(0);
  });

  it('refuses a malformed ACMECTL_RESOLVE before anything is sent (exit 2)', async () => {
    const home = tempDir('doctor');
    const result = await issueWebroot(home, ['bad.example.test'], served, { ACMECTL_RESOLVE: 'bad.example.test' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ACMECTL_RESOLVE: "bad\.example\.test" is not NAME:ADDRESS/);
  });
});
