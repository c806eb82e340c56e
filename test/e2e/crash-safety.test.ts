/**
 * kill -9 at random moments of `issue` and `renew` against a real Pebble, over a SQLite store and a Redis store:
 * after each kill the store opens and the certificate is there, and the exported files are whole and belong
 * together (the private key is the key of the certificate); then the next renew of every killed certificate
 * succeeds and brings its files up to date.
 *
 * The kill moments are spread over a whole run: each is a random delay from 0 to the run time measured on
 * this machine at the start (the first issuance of every certificate, run the same way). Kills run in a few
 * lanes at once, each lane on its own certificates, to keep the file under a minute and a half. The "next
 * renew" is one `renew --force` per store at the end: a run killed while holding a certificate's lock leaves
 * the lease behind until it expires (30 s), and that renew waits for it as any later run would.
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { certificateKey, decodeRecord } from '../../src/core/certificate-record.js';
import type { CertificateRecord } from '../../src/core/certificate-record.js';
import { openStore } from '../../src/store/open.js';
import { BIN, cliEnv, pebbleArgs, runCli } from '../support/cli.js';
import { startRedis } from '../support/redis-server.js';
import type { RedisServerHandle } from '../support/redis-server.js';
import { tempDir } from '../support/temp-dir.js';

/** Certificates per store, and runs killed per store (at least): 2 × 15 = 30 kills. */
const CERTIFICATES = 4;
const KILLS_PER_STORE = 15;
/** Runs at once per store. */
const LANES = 2;

let pebble: PebbleHandle;
let redis: RedisServerHandle;
let webServer: Server;
/** Served on Pebble's validation port: every run writes its tokens here (--webroot), whatever its store. */
const webroot = tempDir('crash-webroot');

beforeAll(async () => {
  [pebble, redis] = await Promise.all([startPebble(), startRedis()]);
  // Made here, so the solvers never create or remove them while another run is writing its token.
  mkdirSync(join(webroot, '.well-known', 'acme-challenge'), { recursive: true });
  webServer = createServer((request, response) => {
    const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(request.url ?? '')?.[1];
    const path = token === undefined ? undefined : join(webroot, '.well-known', 'acme-challenge', token);
    if (path === undefined || !existsSync(path)) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/plain' }).end(readFileSync(path));
  });
  await new Promise<void>((resolve) => webServer.listen(pebble.httpPort, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => webServer?.close(resolve));
  await Promise.all([pebble?.stop(), redis?.dispose()]);
});

interface Store {
  kind: string;
  home: string;
  /** The store's URL, for opening it here. */
  url: string;
  /** Global options naming the store (none: the SQLite file in the home). */
  args: string[];
}

const names = (kind: string): string[] => Array.from({ length: CERTIFICATES }, (_, i) => `crash${i + 1}.${kind}.example.test`);
const common = (store: Store): string[] => [...store.args, ...pebbleArgs(pebble)];
const issueArgs = (store: Store, name: string): string[] => ['issue', name, ...common(store), '--webroot', webroot, '--no-preflight', '--email', 'ops@example.com'];
const renewArgs = (store: Store, name: string): string[] => ['renew', name, '--force', '--no-random-sleep', '--no-preflight', ...common(store)];

/** Runs `lanes` workers that take items off the front of `queue` until it is empty (work may push more). */
async function inLanes<T>(queue: T[], lanes: number, work: (item: T) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: lanes }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  }));
}

/** Starts the command and sends it SIGKILL after `delayMs`; true when it was still running then. */
function killAfter(args: string[], home: string, delayMs: number): Promise<{ killed: boolean; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv({ home }), cwd: home, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    let killed = false;
    const timer = setTimeout(() => (killed = child.exitCode === null && child.kill('SIGKILL')), delayMs);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ killed, stderr });
    });
  });
}

/** The exported lineage is whole: privkey.pem is the key of cert.pem (public keys compared), fullchain.pem starts with it. */
function expectExportedFilesMatch(home: string, name: string): X509Certificate {
  const live = join(home, 'live', name);
  const certPem = readFileSync(join(live, 'cert.pem'), 'utf8');
  const certificate = new X509Certificate(certPem);
  const keyPublic = createPublicKey(createPrivateKey(readFileSync(join(live, 'privkey.pem')))).export({ type: 'spki', format: 'der' });
  const certPublic = certificate.publicKey.export({ type: 'spki', format: 'der' });
  expect(keyPublic.equals(certPublic), `${name}: privkey.pem is the key of cert.pem`).toBe(true);
  expect(readFileSync(join(live, 'fullchain.pem'), 'utf8').startsWith(certPem), `${name}: fullchain.pem starts with cert.pem`).toBe(true);
  expect(readFileSync(join(live, 'chain.pem'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  return certificate;
}

/** The certificate's record as the store holds it now: opening the store and decoding the record must work. */
async function storedRecord(store: Store, name: string): Promise<CertificateRecord> {
  const opened = await openStore(store.url);
  try {
    const entry = await opened.get(certificateKey(name));
    expect(entry, `${store.kind}: ${name} is in the store`).not.toBeNull();
    return decodeRecord(entry!.value, certificateKey(name));
  } finally {
    await opened.close();
  }
}

/** The exported certificate is the stored current version, or (killed between storing and exporting) an earlier one. */
async function expectExportedIsStored(store: Store, name: string, currentOnly: boolean): Promise<void> {
  const certificate = expectExportedFilesMatch(store.home, name);
  const record = await storedRecord(store, name);
  const versions = currentOnly ? [record.current] : [record.current, ...record.history];
  expect(versions.some((version) => new X509Certificate(version.certPem).serialNumber === certificate.serialNumber), `${store.kind}: the exported ${name} is a stored version`).toBe(true);
}

async function killAndRenew(store: Store): Promise<void> {
  const kind = store.kind;
  const registered = await runCli(['account', 'register', '--email', 'ops@example.com', '--agree-tos', ...common(store)], { home: store.home });
  expect(registered.code, registered.stderr).toBe(0);

  // The run time to spread the kills over: the first issuance of each certificate, in lanes as the kills run.
  const durations: number[] = [];
  await inLanes(names(kind), LANES, async (name) => {
    const started = Date.now();
    const issued = await runCli(issueArgs(store, name), { home: store.home });
    durations.push(Date.now() - started);
    expect(issued.code, `${name}:\n${issued.stderr}`).toBe(0);
  });
  const typicalMs = durations.sort((a, b) => a - b)[Math.floor(durations.length / 2)]!;

  // Alternately renew and issue again (--force), each killed at a random moment of its run.
  const runs = Array.from({ length: KILLS_PER_STORE }, (_, i) => ({ name: names(kind)[i % CERTIFICATES]!, renew: i % 2 === 0 }));
  let kills = 0;
  const killedAfter: string[] = [];
  // The queue grows while the lanes run: a run that finished before its kill comes back, so that the kills
  // still number KILLS_PER_STORE.
  await inLanes(runs, LANES, async (run) => {
    const args = run.renew ? renewArgs(store, run.name) : [...issueArgs(store, run.name), '--force'];
    const outcome = await killAfter(args, store.home, Math.random() * typicalMs);
    if (outcome.killed) {
      kills += 1;
      killedAfter.push(outcome.stderr.trim().split('\n').at(-1) || '(nothing printed yet)');
    } else {
      runs.push(run);
    }
    await expectExportedIsStored(store, run.name, false);
  });
  expect(kills, `${kind}: killed after: ${killedAfter.join(' | ')}`).toBeGreaterThanOrEqual(KILLS_PER_STORE);

  // The next renew of every certificate succeeds (waiting out a lease a killed run left), and the files follow.
  const renewed = await runCli(['renew', '--force', '--no-random-sleep', '--no-preflight', ...common(store)], { home: store.home, timeoutMs: 120_000 });
  expect(renewed.code, `${kind}: ${renewed.stderr}`).toBe(0);
  for (const name of names(kind)) await expectExportedIsStored(store, name, true);
}

describe('kill -9 during issue and renew', () => {
  // Both stores at once: the lease waits of their last renews overlap.
  const sqliteHome = tempDir('crash-sqlite');
  const redisHome = tempDir('crash-redis');
  it(`over SQLite and Redis (${KILLS_PER_STORE} kills or more each): the store opens, the files match, the next renew succeeds`, { timeout: 150_000 }, async () => {
    await Promise.all([
      killAndRenew({ kind: 'sqlite', home: sqliteHome, url: `sqlite:${join(sqliteHome, 'acmectl.db')}`, args: [] }),
      killAndRenew({ kind: 'redis', home: redisHome, url: `${redis.url}?prefix=crash/`, args: ['--store', `${redis.url}?prefix=crash/`] }),
    ]);
  });
});
