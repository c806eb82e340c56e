// Tests of the test harness itself: if these fail, every end-to-end test would fail (or, worse,
// pass for the wrong reason), so they pin down what the harness promises.
import { X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createWebroot, startNginx, type NginxHandle, type WebrootDirectory } from './nginx.js';
import { fetchDirectory, freePort, PEBBLE_EAB_KEYS, requestText, startPebble, withPebble } from './pebble.js';

/** True while a process with this pid exists (signal 0 only checks). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe('Pebble harness', () => {
  const pebble = withPebble();

  it('serves the ACME directory over HTTPS trusted via the generated CA bundle', async () => {
    const directory = await fetchDirectory(pebble());
    expect(pebble().directoryUrl).toMatch(/^https:\/\/localhost:\d+\/dir$/);
    expect(directory.newAccount).toMatch(/^https:\/\/localhost:\d+\//);
    expect(directory.newNonce).toMatch(/^https:\/\/localhost:\d+\//);
    expect(directory.newOrder).toMatch(/^https:\/\/localhost:\d+\//);
    expect(directory.meta?.externalAccountRequired).toBe(false);
  });

  it('is not trusted without the CA bundle (verification is really on)', async () => {
    await expect(requestText(pebble().directoryUrl)).rejects.toThrow(/certificate/i);
  });

  it('hands out its root and intermediate as PEM certificates, the intermediate issued by the root', async () => {
    const rootPem = await pebble().rootCertificatePem();
    const intermediatePem = await pebble().intermediateCertificatePem();
    expect(rootPem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\s*$/);
    const root = new X509Certificate(rootPem);
    const intermediate = new X509Certificate(intermediatePem);
    expect(root.ca).toBe(true);
    expect(intermediate.checkIssued(root)).toBe(true);
    // The ACME CA is Pebble's own, not the harness CA that signs Pebble's HTTPS listener.
    const harnessCa = new X509Certificate(await readFile(pebble().caBundlePath));
    expect(root.fingerprint256).not.toBe(harnessCa.fingerprint256);
  });

  it('resolves every name to 127.0.0.1 (A) and nothing for AAAA through pebble-challtestsrv', async () => {
    const resolver = new Resolver();
    resolver.setServers([pebble().dnsServer]);
    expect(await resolver.resolve4('anything.example.test')).toEqual(['127.0.0.1']);
    expect(await resolver.resolve4('demo.example.test')).toEqual(['127.0.0.1']);
    await expect(resolver.resolve6('anything.example.test')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('uses a separate free port for HTTP-01 validation', () => {
    expect(pebble().httpPort).toBeGreaterThan(0);
    expect(pebble().directoryUrl).not.toContain(`:${pebble().httpPort}/`);
  });
});

describe('Pebble harness with External Account Binding, and stop()', () => {
  it('requires EAB in the directory meta, and stop() leaves no process and no temp dir', async () => {
    const eabPebble = await startPebble({ eab: true, env: { PEBBLE_WFE_NONCEREJECT: '0' } });
    const { pebble: pebblePid, challtestsrv: challtestsrvPid } = eabPebble.pids;
    try {
      const directory = await fetchDirectory(eabPebble);
      expect(directory.meta?.externalAccountRequired).toBe(true);
      const config = JSON.parse(await readFile(eabPebble.configPath, 'utf8')) as { pebble: Record<string, unknown> };
      expect(config.pebble['externalAccountMACKeys']).toEqual(PEBBLE_EAB_KEYS);
      expect(pebblePid && processExists(pebblePid)).toBe(true);
      expect(challtestsrvPid && processExists(challtestsrvPid)).toBe(true);
    } finally {
      await eabPebble.stop();
    }
    expect(processExists(pebblePid!)).toBe(false);
    expect(processExists(challtestsrvPid!)).toBe(false);
    expect(existsSync(eabPebble.dir)).toBe(false);
    await expect(requestText(eabPebble.directoryUrl, { timeoutMs: 2_000 })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('applies extra config keys and a fixed httpPort', async () => {
    const httpPort = await freePort();
    const configured = await startPebble({ httpPort, config: { certificateValidityPeriod: 3600 } });
    try {
      expect(configured.httpPort).toBe(httpPort);
      const config = JSON.parse(await readFile(configured.configPath, 'utf8')) as { pebble: Record<string, unknown> };
      expect(config.pebble).toMatchObject({ httpPort, certificateValidityPeriod: 3600, ocspResponderURL: '' });
    } finally {
      await configured.stop();
    }
  });
});

describe('nginx harness', () => {
  let webroot: WebrootDirectory;
  let nginx: NginxHandle;

  beforeAll(async () => {
    webroot = await createWebroot();
    nginx = await startNginx({ port: await freePort(), root: webroot.root });
  });

  afterAll(async () => {
    await nginx?.stop();
  });

  /** Writes a challenge file the way acmectl must: world-readable file in 0755 directories. */
  async function writeChallenge(name: string, content: string, mode: number): Promise<void> {
    const challengeDir = join(webroot.root, '.well-known', 'acme-challenge');
    await mkdir(challengeDir, { recursive: true });
    await chmod(join(webroot.root, '.well-known'), 0o755);
    await chmod(challengeDir, 0o755);
    const file = join(challengeDir, name);
    await writeFile(file, content);
    await chmod(file, mode);
  }

  it('serves a 0644 file under /.well-known/acme-challenge/', async () => {
    await writeChallenge('x', 'token-x.thumbprint', 0o644);
    const response = await requestText(`${nginx.url}/.well-known/acme-challenge/x`);
    expect(response.status, await nginx.logs()).toBe(200);
    expect(response.body).toBe('token-x.thumbprint');
  });

  it('answers 404 for missing challenges and for anything outside the challenge path', async () => {
    await writeFile(join(webroot.root, 'index.html'), 'not served');
    await chmod(join(webroot.root, 'index.html'), 0o644);
    expect((await requestText(`${nginx.url}/.well-known/acme-challenge/missing`)).status).toBe(404);
    expect((await requestText(`${nginx.url}/index.html`)).status).toBe(404);
    expect((await requestText(`${nginx.url}/`)).status).toBe(404);
  });

  it('runs workers unprivileged when started as root, so owner-only files are refused like on a real server', async () => {
    await writeChallenge('private', 'secret', 0o600);
    const response = await requestText(`${nginx.url}/.well-known/acme-challenge/private`);
    if (process.getuid?.() === 0) {
      // Root master, "nobody" workers: a 0600 root-owned file must not be readable.
      expect(nginx.workerUser).toBe('nobody');
      expect(response.status).toBe(403);
    } else {
      // Not root: nginx cannot switch users, workers run as us and can read our own files.
      expect(nginx.workerUser).toBeUndefined();
      expect(response.status).toBe(200);
    }
  });

  it('stop() ends the master and frees the port', async () => {
    const port = await freePort();
    const extra = await startNginx({ port, root: webroot.root });
    const pid = extra.pid!;
    expect(processExists(pid)).toBe(true);
    await extra.stop();
    expect(processExists(pid)).toBe(false);
    expect(existsSync(extra.dir)).toBe(false);
    await expect(requestText(`${extra.url}/`, { timeoutMs: 2_000 })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('freePort', () => {
  it('never gives a port twice in a process, and gives a test worker ports from its own share only', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 60; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    const worker = Number(process.env.VITEST_POOL_ID);
    expect(worker).toBeGreaterThan(0);
    const share = Math.floor(12768 / 4);
    const low = 20000 + ((worker - 1) % 4) * share;
    for (const port of ports) expect(port >= low && port < low + share, `port ${port} outside ${low}-${low + share - 1}`).toBe(true);
  });
});
