import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { certificateOf, keyMatchesCertificate, opensslVerify } from '../support/certificates.js';
import { runCli } from '../support/cli.js';
import { startRedis } from '../support/redis-server.js';
import type { RedisServerHandle } from '../support/redis-server.js';
import { openStore } from '../../src/store/open.js';
import { describeErrors, documentSchema, schemaValidator } from '../support/json-schemas.js';
import { startServe } from '../support/serve-process.js';
import type { ServeProcess } from '../support/serve-process.js';
import { treeSnapshot } from '../support/store-snapshot.js';
import { tempDir } from '../support/temp-dir.js';

let pebble: PebbleHandle;
let redis: RedisServerHandle;
beforeAll(async () => {
  [pebble, redis] = await Promise.all([startPebble({ config: { certificateValidityPeriod: 3600 }, env: { PEBBLE_AUTHZREUSE: '0' } }), startRedis()]);
});
afterAll(async () => {
  await Promise.all([pebble?.stop(), redis?.dispose()]);
});

/** Each test gets its own namespace in the one Redis, as separate fleets would. */
const freshStore = (): string => `${redis.url}?prefix=fleet-${randomUUID().slice(0, 8)}/`;
const nodeHome = (): string => tempDir('node');
const common = (store: string): string[] => ['--store', store, '--server', pebble.directoryUrl, '--ca-bundle', pebble.caBundlePath];
/** `acmectl serve` on Pebble's validation port, as on every node behind a load balancer. */
const serveOn = (store: string, home: string): Promise<ServeProcess> =>
  startServe(['--store', store, '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'], { ACMECTL_HOME: home });

describe('a fleet sharing one Redis store', () => {
  it('issues with --challenge store on node A while only node B listens (acmectl serve)', async () => {
    const store = freshStore();
    const [a, b] = [nodeHome(), nodeHome()];
    const serve = await serveOn(store, b);
    try {
      const issued = await runCli(['issue', 'fleet.example.test', ...common(store), '--challenge', 'store', '--email', 'ops@example.com', '--agree-tos'], { home: a });
      expect(issued.stderr).toContain('fleet.example.test validated');
      expect(issued.code).toBe(0);
      // Pebble fetched the token from node B, which found it in the store.
      expect(serve.log()).toMatch(/ GET \/\.well-known\/acme-challenge\/[A-Za-z0-9_-]+ 200 /);
      const live = join(a, 'live', 'fleet.example.test');
      expect(await opensslVerify(live, await pebble.rootCertificatePem(), a)).toMatch(/OK$/);
      expect(await keyMatchesCertificate(live)).toBe(true);
      // The token was removed after the order: nothing is answered any more.
      const token = /acme-challenge\/([A-Za-z0-9_-]+) 200/.exec(serve.log())![1]!;
      expect((await fetch(`http://127.0.0.1:${pebble.httpPort}/.well-known/acme-challenge/${token}`)).status).toBe(404);
      // Without --challenge store and with port 80 taken by serve, a standalone order on this port fails clearly.
      const standalone = await runCli(['issue', 'other.example.test', ...common(store), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'], { home: a });
      expect(standalone.code).toBe(1);
      expect(standalone.stderr).toMatch(/port \d+ is already in use by another process/);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    expect(serve.log()).toMatch(/stopping/);
  });

  it('three nodes renewing --force at once: each certificate renewed once, every node ends with the current files and ran its deploy hook once per certificate', async () => {
    const store = freshStore();
    const names = ['c1.example.test', 'c2.example.test', 'c3.example.test'];
    const nodes = [nodeHome(), nodeHome(), nodeHome()];
    const serve = await serveOn(store, nodeHome());
    try {
      for (const name of names) {
        const issued = await runCli(['issue', name, ...common(store), '--challenge', 'store', '--email', 'ops@example.com', '--agree-tos'], { home: nodes[0]! });
        expect(issued.code).toBe(0);
      }
      const before = await Promise.all(names.map(async (name) => (JSON.parse((await runCli(['show', name, '--json', '--store', store], { home: nodes[1]! })).stdout) as { serial: string }).serial));

      const runs = await Promise.all(
        nodes.map((home, i) =>
          runCli(['renew', '--force', '--no-random-sleep', ...common(store), '--deploy-hook', `echo "$ACMECTL_CERT_NAME $ACMECTL_SERIAL" >> ${join(home, `deploy-${i}.log`)}`], { home }),
        ),
      );
      for (const run of runs) {
        expect(run.stderr).not.toMatch(/error/);
        expect(run.code).toBe(0);
      }
      for (const [i, name] of names.entries()) {
        const shown = JSON.parse((await runCli(['show', name, '--json', '--store', store], { home: nodes[2]! })).stdout) as { serial: string; version: number; versions: { serial: string }[] };
        expect(shown.version, `${name}: exactly one renewal`).toBe(2);
        expect(shown.versions.map((v) => v.serial)).toEqual([shown.serial, before[i]]);
        // Every node serves the current version, byte for byte the same files.
        const files = nodes.map((home) => ['fullchain.pem', 'privkey.pem'].map((f) => readFileSync(join(home, 'live', name, f), 'utf8')).join(''));
        expect(new Set(files).size).toBe(1);
        expect(certificateOf(join(nodes[1]!, 'live', name, 'cert.pem')).serialNumber.toUpperCase()).toBe(shown.serial);
      }
      for (const [i, home] of nodes.entries()) {
        const lines = readFileSync(join(home, `deploy-${i}.log`), 'utf8').trim().split('\n').sort();
        expect(lines.map((line) => line.split(' ')[0])).toEqual(names);
      }
      // The next cron run on every node: nothing due, nothing written, no hook.
      const quiet = await runCli(['renew', '--no-random-sleep', ...common(store), '--deploy-hook', `echo again >> ${join(nodes[1]!, 'again.log')}`], { home: nodes[1]! });
      expect(quiet.stdout).toMatch(/0 renewed, 3 not due, 0 failed/);
      expect(existsSync(join(nodes[1]!, 'again.log'))).toBe(false);
    } finally {
      await serve.stop();
    }
  });

  it('moves from a local SQLite store to Redis with store copy', async () => {
    const home = nodeHome();
    const local = `sqlite:${join(home, 'acmectl.db')}`;
    const issued = await runCli(['issue', 'moved.example.test', '--store', local, '--server', pebble.directoryUrl, '--ca-bundle', pebble.caBundlePath, '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'], { home });
    expect(issued.code).toBe(0);
    const store = freshStore();
    const copied = await runCli(['store', 'copy', '--from', local, '--to', store], { home });
    expect(copied.code).toBe(0);
    expect(copied.stdout).toMatch(/2 copied, 0 already there, 0 conflicting/);
    const again = await runCli(['store', 'copy', '--from', local, '--to', store], { home });
    expect(again.stdout).toMatch(/0 copied, 2 already there/);
    const list = JSON.parse((await runCli(['list', '--json', '--store', store], { home: nodeHome() })).stdout) as { certificates: { name: string }[] };
    expect(list.certificates.map((c) => c.name)).toEqual(['moved.example.test']);
    // Another node renews it from Redis with the copied account and settings (standalone, as it was issued).
    const other = nodeHome();
    const renewed = await runCli(['renew', '--force', '--no-random-sleep', ...common(store)], { home: other });
    expect(renewed.stdout).toMatch(/1 renewed/);
    expect(await keyMatchesCertificate(join(other, 'live', 'moved.example.test'))).toBe(true);
  });
});

describe('doctor on a fleet', () => {
  interface Check {
    name: string;
    certificate: string | null;
    verdict: string;
    detail: string;
    fix: string | null;
  }
  it('checks that acmectl serve answers a --challenge store certificate through each name over IPv4 and IPv6 (exit 1 and the fix when it does not); the probe token leaves the store', async () => {
    const store = freshStore();
    const home = nodeHome();
    const name = 'doctor.fleet.example.test';
    // The name points at both loopback addresses, where serve listens, as a dual-stack host would.
    const env = { ACMECTL_RESOLVE: `${name}:127.0.0.1,${name}:[::1]` };
    const validate = documentSchema(schemaValidator(), 'doctor');
    const doctor = async (): Promise<{ code: number; serve: Check }> => {
      const result = await runCli(['doctor', name, ...common(store), '--json'], { home, env });
      const document = JSON.parse(result.stdout) as { checks: Check[] };
      expect(validate(document), describeErrors(validate.errors)).toBe(true);
      const serve = document.checks.find((c) => c.name === 'serve' && c.certificate === name);
      if (!serve) throw new Error(`no serve check: ${result.stdout}`);
      return { code: result.code, serve };
    };
    const serve = await startServe(['--store', store, '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1,::1'], { ACMECTL_HOME: nodeHome() });
    try {
      const issued = await runCli(['issue', name, ...common(store), '--challenge', 'store', '--http-port', String(pebble.httpPort), '--email', 'ops@example.com', '--agree-tos'], { home });
      expect(issued.code, issued.stderr).toBe(0);
      const healthy = await doctor();
      expect(healthy.serve).toEqual({ name: 'serve', certificate: name, verdict: 'ok', detail: `served through ${name} at 127.0.0.1 (IPv4), ${name} at ::1 (IPv6)`, fix: null });
      expect(healthy.code).toBe(0);
      expect(serve.log()).toMatch(/ GET \/\.well-known\/acme-challenge\/acmectl-probe-[A-Za-z0-9_-]+ 200 /);
    } finally {
      await serve.stop();
    }
    const down = await doctor();
    expect(down.code).toBe(1);
    expect(down.serve.verdict).toBe('fail');
    expect(down.serve.detail).toBe(`${name} at 127.0.0.1 (IPv4): connection refused on port ${pebble.httpPort}; ${name} at ::1 (IPv6): connection refused on port ${pebble.httpPort}`);
    expect(down.serve.fix).toBe(`nothing listens on port ${pebble.httpPort} at 127.0.0.1: run acmectl serve with this store on every host ${name} points to; nothing listens on port ${pebble.httpPort} at ::1: run acmectl serve with this store on every host ${name} points to`);
    // Both probes deleted their token from the shared store.
    const opened = await openStore(store);
    try {
      const left: string[] = [];
      for await (const key of opened.list('challenges/')) left.push(key);
      expect(left).toEqual([]);
    } finally {
      await opened.close();
    }
  });
});

describe('Redis stopped in the middle of a run', () => {
  it('fails clearly (exit 1) without damaging exported files, and the next run completes', async () => {
    const store = freshStore();
    const home = nodeHome();
    const names = ['down1.example.test', 'down2.example.test'];
    for (const name of names) {
      const issued = await runCli(['issue', name, '--store', store, '--server', pebble.directoryUrl, '--ca-bundle', pebble.caBundlePath, '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'], { home });
      expect(issued.code).toBe(0);
    }
    const files = treeSnapshot(join(home, 'live'));
    // The pre-hook runs once the run holds its locks: it tells the test, which stops Redis, then lets the run go on.
    const started = join(home, 'started');
    const release = join(home, 'release');
    const hook = `touch ${started}; while [ ! -e ${release} ]; do sleep 0.1; done`;
    const running = runCli(['renew', '--force', '--no-random-sleep', '--concurrency', '1', '--pre-hook', hook, '--store', store, '--server', pebble.directoryUrl, '--ca-bundle', pebble.caBundlePath], { home, timeoutMs: 120_000 });
    while (!existsSync(started)) await new Promise((resolve) => setTimeout(resolve, 50));
    await redis.stop();
    writeFileSync(release, '');
    const failed = await running;
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/redis/i);
    expect(failed.stdout).toMatch(/0 renewed, 0 not due, 2 failed/);
    expect(treeSnapshot(join(home, 'live'))).toEqual(files);

    await redis.restart();
    const next = await runCli(['renew', '--force', '--no-random-sleep', '--store', store, '--server', pebble.directoryUrl, '--ca-bundle', pebble.caBundlePath], { home, timeoutMs: 120_000 });
    expect(next.stderr).not.toMatch(/error/);
    expect(next.code).toBe(0);
    expect(next.stdout).toMatch(/2 renewed/);
    for (const name of names) expect(await keyMatchesCertificate(join(home, 'live', name))).toBe(true);
  }, 180_000);
});
