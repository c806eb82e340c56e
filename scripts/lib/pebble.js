// Local ACME test CA harness: Let's Encrypt's Pebble plus pebble-challtestsrv as its DNS server.
//
// Plain ESM JavaScript (typed with JSDoc, declared in pebble.d.ts) because it is shared by the
// TypeScript tests and by `npm run demo`, which runs under plain node without a build step.
//
// Network: everything listens on and talks to 127.0.0.1 only.

import { spawn } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import dgram from 'node:dgram';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, readdir, rename, rm, writeFile, readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Pebble's published example External Account Binding keys
 * (/usr/share/doc/pebble/examples/pebble-config-external-account-bindings.json):
 * key id -> base64url HMAC key. Used when `startPebble({ eab: true })`.
 * @type {Readonly<Record<'kid-1' | 'kid-2', string>>}
 */
export const PEBBLE_EAB_KEYS = Object.freeze({
  'kid-1': 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W',
  'kid-2': 'b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH',
});

/** How long startPebble waits for both processes to answer before failing. */
const STARTUP_DEADLINE_MS = 15_000;
/** How long stop() waits after SIGTERM before sending SIGKILL. */
const STOP_GRACE_MS = 2_000;
/** Per-process cap on captured output kept for error messages. */
const OUTPUT_LIMIT_BYTES = 64 * 1024;

/** @typedef {(line: string) => void} LogFn */

// ---------------------------------------------------------------------------------------------
// Tool installation
// ---------------------------------------------------------------------------------------------

/**
 * Full path of an executable named `command` found on PATH (plus `extraDirs`), or undefined.
 * @param {string} command
 * @param {string[]} [extraDirs] searched after PATH, e.g. /usr/sbin which non-root PATHs lack
 * @returns {Promise<string | undefined>}
 */
export async function findExecutable(command, extraDirs = []) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, command);
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * Runs a command to completion, capturing (bounded) combined output. Never throws for a
 * non-zero exit; the caller inspects `code`.
 * @param {string} command
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string }} [options]
 * @returns {Promise<{ code: number | null, output: string }>}
 */
export function runCommand(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = new BoundedOutput(OUTPUT_LIMIT_BYTES);
    child.stdout.on('data', (chunk) => output.append(chunk));
    child.stderr.on('data', (chunk) => output.append(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.text() }));
  });
}

/**
 * Guarantees that every command in `commands` is executable afterwards, or throws an Error whose
 * message says exactly what to install. Installs `aptPackage` with apt-get only when running as
 * root on a machine with apt-get (running `apt-get update` and retrying once if the first attempt
 * fails, typically because the package lists are missing). Never silently does nothing.
 *
 * @param {{
 *   commands: string[],
 *   aptPackage: string,
 *   manualInstructions: string,
 *   extraDirs?: string[],
 *   log?: LogFn,
 * }} spec
 * @returns {Promise<void>}
 */
export async function ensureCommandsInstalled({ commands, aptPackage, manualInstructions, extraDirs = [], log = defaultLog }) {
  const missing = async () => {
    const absent = [];
    for (const command of commands) {
      if (!(await findExecutable(command, extraDirs))) absent.push(command);
    }
    return absent;
  };

  const absentBefore = await missing();
  if (absentBefore.length === 0) return;

  const what = absentBefore.join(' and ');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const aptGet = isRoot ? await findExecutable('apt-get', ['/usr/bin', '/usr/sbin']) : undefined;
  if (!aptGet) {
    throw new Error(`${what} not found on PATH. ${manualInstructions}`);
  }

  log(`${what} not found; installing Debian package "${aptPackage}" with apt-get (running as root)...`);
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let attempt = await runCommand(aptGet, ['install', '-y', '--no-install-recommends', aptPackage], { env: aptEnv });
  if (attempt.code !== 0) {
    // Fresh containers ship without package lists ("Unable to locate package"); refresh and retry once.
    log(`apt-get install ${aptPackage} failed; running apt-get update and retrying...`);
    const update = await runCommand(aptGet, ['update'], { env: aptEnv });
    if (update.code !== 0) {
      throw new Error(`apt-get update failed while installing ${aptPackage}:\n${tailLines(update.output, 20)}\n${manualInstructions}`);
    }
    attempt = await runCommand(aptGet, ['install', '-y', '--no-install-recommends', aptPackage], { env: aptEnv });
  }
  if (attempt.code !== 0) {
    throw new Error(`apt-get install -y ${aptPackage} failed:\n${tailLines(attempt.output, 20)}\n${manualInstructions}`);
  }

  const absentAfter = await missing();
  if (absentAfter.length > 0) {
    throw new Error(`Installed ${aptPackage} but ${absentAfter.join(' and ')} is still not on PATH. ${manualInstructions}`);
  }
  log(`Installed ${aptPackage}.`);
}

/**
 * Guarantees `pebble` and `pebble-challtestsrv` are on PATH afterwards (installing the Debian
 * package when root), or throws an Error naming what to install.
 * @param {{ log?: LogFn }} [options]
 */
export function ensurePebbleInstalled({ log } = {}) {
  return ensureCommandsInstalled({
    commands: ['pebble', 'pebble-challtestsrv'],
    aptPackage: 'pebble',
    manualInstructions:
      'Install Pebble (the local ACME test CA) and re-run: on Debian/Ubuntu `sudo apt-get install pebble`; ' +
      'elsewhere get both binaries from https://github.com/letsencrypt/pebble (release downloads, or ' +
      '`go install github.com/letsencrypt/pebble/v2/cmd/pebble@latest github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@latest`) ' +
      'and put them on PATH.',
    log,
  });
}

/**
 * Guarantees `openssl` is on PATH afterwards (installing the Debian package when root), or throws
 * an Error naming what to install.
 * @param {{ log?: LogFn }} [options]
 */
export function ensureOpensslInstalled({ log } = {}) {
  return ensureCommandsInstalled({
    commands: ['openssl'],
    aptPackage: 'openssl',
    manualInstructions:
      'Install the OpenSSL command-line tool and re-run: on Debian/Ubuntu `sudo apt-get install openssl`; ' +
      'on macOS `brew install openssl`.',
    log,
  });
}

// ---------------------------------------------------------------------------------------------
// Pebble 2.10 (ARI, profiles): Debian unstable's package, unpacked into a cache folder
// ---------------------------------------------------------------------------------------------

/**
 * The Pebble release `startPebble({ version: 'ari' })` runs: any Debian unstable upload of 2.10.x. Pinned so
 * that a new upload to unstable (2.11, ...) cannot silently change the CA under the tests: when unstable moves
 * on, the fetch fails with a message saying so, and someone bumps this after running the tests against it.
 */
export const PEBBLE_ARI_VERSION_PREFIX = '2.10';

/** The one apt source of the private apt state: Debian unstable, verified with the archive keyring. */
const DEBIAN_UNSTABLE_SOURCE =
  'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian unstable main';
/** How long a fetch waits for another process's fetch (holding the lock) to finish. */
const FETCH_LOCK_WAIT_S = 300;
/** flock's exit code when that wait runs out (distinct from the fetch's own failures). */
const FETCH_LOCK_TIMEOUT_CODE = 75;
/** Written into the unpacked folder last, before it is renamed into place: its presence means "complete". */
const FETCH_RECORD = 'acmectl-fetch.json';
const FETCH_SCRIPT = fileURLToPath(new URL('../fetch-pebble.js', import.meta.url));

/**
 * Where Pebble 2.10 is unpacked: `${XDG_CACHE_HOME:-~/.cache}/acmectl-test/pebble-2.10`. A per-user cache
 * rather than a folder in the repository, so that every clone and git worktree on the machine shares one
 * download, and `git clean -fdx` does not throw it away. Deleting the folder is always safe: the next start
 * fetches it again.
 * @param {NodeJS.ProcessEnv} [env]
 */
export function pebbleAriInstallDir(env = process.env) {
  const xdg = env['XDG_CACHE_HOME'];
  const cacheHome = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(cacheHome, 'acmectl-test', `pebble-${PEBBLE_ARI_VERSION_PREFIX}`);
}

/**
 * @typedef {object} PebbleAriInstall
 * @property {string} dir the unpacked package (usr/bin/pebble, usr/share/doc/pebble, ...)
 * @property {string} pebble the pebble binary
 * @property {string} packageVersion the Debian package version, e.g. 2.10.0+ds1-2
 * @property {boolean} fetched true when this call downloaded it, false when it was already there
 */

/** @type {Map<string, Promise<PebbleAriInstall>>} one fetch per folder per process */
const ariInstalls = new Map();

/**
 * Makes sure Pebble 2.10 is unpacked in `installDir` (default pebbleAriInstallDir()) and says where. The first
 * call on a machine downloads Debian unstable's `pebble` package with apt-get, using a private apt state (its
 * own sources list, package lists and cache inside the cache folder): the machine's apt configuration is not
 * changed and nothing is installed, as root or not. Safe when many processes call it at once: one downloads
 * (under an flock(1) lock), the others wait and then use its folder, which appears complete in one rename.
 * Throws, saying why, when the download fails or unstable no longer has a 2.10.x.
 * @param {{ installDir?: string, log?: LogFn }} [options]
 * @returns {Promise<PebbleAriInstall>}
 */
export function ensurePebbleAri({ installDir = pebbleAriInstallDir(), log = defaultLog } = {}) {
  let pending = ariInstalls.get(installDir);
  if (!pending) {
    pending = ensurePebbleAriOnce(installDir, log);
    ariInstalls.set(installDir, pending);
    pending.catch(() => ariInstalls.delete(installDir)); // a later call may try again
  }
  return pending;
}

/**
 * @param {string} installDir
 * @param {LogFn} log
 * @returns {Promise<PebbleAriInstall>}
 */
async function ensurePebbleAriOnce(installDir, log) {
  const present = await readPebbleAriInstall(installDir);
  if (present) return { ...present, fetched: false };

  const flock = await findExecutable('flock', ['/usr/bin']);
  if (!flock) {
    throw new Error(
      `Pebble ${PEBBLE_ARI_VERSION_PREFIX} (the test CA with ARI and profiles) is not in ${installDir}, and fetching it ` +
        'needs flock (Debian package util-linux) and apt-get (Debian or Ubuntu).',
    );
  }
  await mkdir(dirname(installDir), { recursive: true });
  log(
    `Pebble ${PEBBLE_ARI_VERSION_PREFIX} is not in ${installDir} yet: fetching it from Debian unstable (apt-get download ` +
      'with a private apt state, nothing is installed; or waiting for another process that is fetching it)...',
  );
  // The lock is held by flock(1) for as long as the child runs, and released by the kernel if it dies: no
  // stale lock files. The child checks again whether the folder appeared while it waited.
  const child = await runCommand(flock, [
    '--exclusive', '--wait', String(FETCH_LOCK_WAIT_S), '--conflict-exit-code', String(FETCH_LOCK_TIMEOUT_CODE),
    `${installDir}.lock`,
    process.execPath, FETCH_SCRIPT, '--holding-lock', installDir,
  ]);
  if (child.code === FETCH_LOCK_TIMEOUT_CODE) {
    throw new Error(`Waited ${FETCH_LOCK_WAIT_S} s for another process fetching Pebble into ${installDir} (lock ${installDir}.lock); giving up.`);
  }
  if (child.code !== 0) {
    throw new Error(`Could not fetch Pebble ${PEBBLE_ARI_VERSION_PREFIX} into ${installDir}:\n${tailLines(child.output, 30)}`);
  }
  const install = await readPebbleAriInstall(installDir);
  if (!install) throw new Error(`Fetching Pebble into ${installDir} reported success, but the folder is not complete:\n${tailLines(child.output, 30)}`);
  const fetched = /^fetched pebble /m.test(child.output);
  if (fetched) log(`fetched Pebble ${install.packageVersion}.`);
  return { ...install, fetched };
}

/**
 * The complete Pebble 2.10 unpacked in `installDir`, or undefined.
 * @param {string} installDir
 * @returns {Promise<Omit<PebbleAriInstall, 'fetched'> | undefined>}
 */
async function readPebbleAriInstall(installDir) {
  /** @type {{ packageVersion?: unknown }} */
  let record;
  try {
    record = JSON.parse(await readFile(join(installDir, FETCH_RECORD), 'utf8'));
  } catch {
    return undefined;
  }
  const packageVersion = typeof record.packageVersion === 'string' ? record.packageVersion : '';
  if (!isPinnedAriVersion(packageVersion)) return undefined;
  const pebble = join(installDir, 'usr', 'bin', 'pebble');
  try {
    await access(pebble, fsConstants.X_OK);
  } catch {
    return undefined;
  }
  return { dir: installDir, pebble, packageVersion };
}

/** @param {string} version a Debian version: 2.10.0+ds1-2 is pinned, 2.1.0 and 2.100.0 are not */
function isPinnedAriVersion(version) {
  return version.startsWith(`${PEBBLE_ARI_VERSION_PREFIX}.`);
}

/**
 * The download itself, run by scripts/fetch-pebble.js while flock(1) holds `${installDir}.lock` (never call it
 * without that lock). Idempotent: does nothing when the folder is already complete.
 * @param {string} installDir
 * @param {LogFn} [log]
 * @returns {Promise<{ fetched: boolean, packageVersion: string }>}
 */
export async function fetchPebbleAriHoldingLock(installDir, log = defaultLog) {
  const present = await readPebbleAriInstall(installDir);
  if (present) {
    log(`already there: pebble ${present.packageVersion} in ${installDir}`);
    return { fetched: false, packageVersion: present.packageVersion };
  }
  // Left by fetches that were killed half-way; we hold the lock, so none of them is still running.
  const parent = dirname(installDir);
  for (const entry of await readdir(parent)) {
    if (entry.startsWith(`${basename(installDir)}.partial-`)) await rm(join(parent, entry), { recursive: true, force: true });
  }
  await rm(installDir, { recursive: true, force: true }); // not complete (no record): never happens by rename

  const work = await mkdtemp(`${installDir}.partial-`);
  try {
    const packageVersion = await downloadAndUnpackPebble(work, log);
    await rename(join(work, 'root'), installDir);
    log(`fetched pebble ${packageVersion} into ${installDir}`);
    return { fetched: true, packageVersion };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Fills `${work}/root` with Debian unstable's pebble 2.10.x package, unpacked and checked, plus FETCH_RECORD.
 * @param {string} work
 * @param {LogFn} log
 * @returns {Promise<string>} the package version
 */
async function downloadAndUnpackPebble(work, log) {
  const aptGet = await findExecutable('apt-get', ['/usr/bin']);
  const aptCache = await findExecutable('apt-cache', ['/usr/bin']);
  const dpkgDeb = await findExecutable('dpkg-deb', ['/usr/bin']);
  if (!aptGet || !aptCache || !dpkgDeb) {
    throw new Error('fetching Pebble needs apt-get, apt-cache and dpkg-deb (a Debian or Ubuntu machine)');
  }
  const apt = join(work, 'apt');
  const debs = join(work, 'debs');
  const root = join(work, 'root');
  for (const dir of [join(apt, 'lists', 'partial'), join(apt, 'cache', 'archives', 'partial'), join(apt, 'state'), debs]) {
    await mkdir(dir, { recursive: true });
  }
  await writeFile(join(apt, 'sources.list'), `${DEBIAN_UNSTABLE_SOURCE}\n`);
  await writeFile(join(apt, 'status'), ''); // "nothing installed": the machine's dpkg status plays no part
  // Everything apt reads or writes about packages points into `work`; /etc/apt/apt.conf.d still applies (a
  // proxy configured there is needed here too), but no source list or pin of the machine's does.
  const aptOptions = [
    ['Dir::Etc::SourceList', join(apt, 'sources.list')],
    ['Dir::Etc::SourceParts', '/dev/null'],
    ['Dir::Etc::Preferences', '/dev/null'],
    ['Dir::Etc::PreferencesParts', '/dev/null'],
    ['Dir::State', join(apt, 'state')],
    ['Dir::State::Lists', join(apt, 'lists')],
    ['Dir::State::status', join(apt, 'status')],
    ['Dir::Cache', join(apt, 'cache')],
    ['Acquire::Languages', 'none'],
    // apt downloads as the _apt user, who cannot enter root's ~/.cache: say so instead of a warning per file.
    ...(process.getuid?.() === 0 ? [['APT::Sandbox::User', 'root']] : []),
  ].flatMap(([key, value]) => ['-o', `${key}=${value}`]);
  const env = { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' };

  /**
   * @param {string} what the command as the error message shows it (without the -o options)
   * @param {string} command @param {string[]} args @param {string} [cwd]
   */
  const run = async (what, command, args, cwd) => {
    const result = await runCommand(command, args, { env, cwd });
    if (result.code !== 0) throw new Error(`${what} failed (code ${result.code}):\n${tailLines(result.output, 20)}`);
    return result.output;
  };

  log('apt-get update (Debian unstable, private package lists)...');
  try {
    await run('apt-get update', aptGet, [...aptOptions, 'update']);
  } catch (error) {
    throw new Error(`${/** @type {Error} */ (error).message}\nFetching Pebble needs access to deb.debian.org (or the apt proxy configured in /etc/apt/apt.conf.d).`);
  }
  // `madison` lists what the source offers, newest first: "pebble | 2.10.0+ds1-2 | http://... Packages".
  const offered = (await run('apt-cache madison pebble', aptCache, [...aptOptions, 'madison', 'pebble']))
    .split('\n')
    .map((line) => line.split('|').map((field) => field.trim()))
    .filter((fields) => fields[0] === 'pebble' && fields[1])
    .map((fields) => /** @type {string} */ (fields[1]));
  const packageVersion = offered.find(isPinnedAriVersion);
  if (!packageVersion) {
    throw new Error(
      `Debian unstable offers pebble ${offered.join(', ') || '(no version at all)'}, not ${PEBBLE_ARI_VERSION_PREFIX}.x. ` +
        `The tests are pinned to Pebble ${PEBBLE_ARI_VERSION_PREFIX} (PEBBLE_ARI_VERSION_PREFIX in scripts/lib/pebble.js): ` +
        'run them against the new version and move the pin, or unpack a 2.10 package into the cache folder by hand.',
    );
  }
  log(`apt-get download pebble=${packageVersion}...`);
  // apt checks the package against the hash in the signed release files.
  await run(`apt-get download pebble=${packageVersion}`, aptGet, [...aptOptions, 'download', `pebble=${packageVersion}`], debs);
  const deb = (await readdir(debs)).find((name) => name.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download pebble=${packageVersion} left no .deb in ${debs}`);
  await run(`dpkg-deb -x ${deb}`, dpkgDeb, ['-x', join(debs, deb), root]);

  const pebble = join(root, 'usr', 'bin', 'pebble');
  const probe = await runCommand(pebble, ['-version']);
  if (probe.code !== 0 || !/Pebble version/.test(probe.output)) {
    throw new Error(`the unpacked ${pebble} does not run (code ${probe.code}):\n${tailLines(probe.output, 10)}`);
  }
  const sha256 = createHash('sha256').update(await readFile(join(debs, deb))).digest('hex');
  await writeFile(
    join(root, FETCH_RECORD),
    `${JSON.stringify({ package: 'pebble', packageVersion, deb, sha256, source: DEBIAN_UNSTABLE_SOURCE, fetchedAt: new Date().toISOString() }, null, 2)}\n`,
  );
  return packageVersion;
}

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

/**
 * A TCP port that was free on `host` a moment ago (the OS picked it; we closed it again).
 * Another process may still grab it before the caller binds it; startPebble retries on that.
 * @param {string} [host]
 * @returns {Promise<number>}
 */
export async function freePort(host = '127.0.0.1') {
  // Below the kernel's ephemeral range (32768-60999 on Linux): a port the OS hands out for port 0 can be taken
  // a moment later as the local end of some outgoing connection, and then nothing can listen on it (seen here
  // as a rare EADDRINUSE). Ports from 20000 to 32767 are never used that way; a random one is checked first.
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = candidatePort();
    if (await canListen(host, port)) return port;
  }
  throw new Error(`could not find a free port on ${host} between 20000 and 32767`);
}

/**
 * A port to try: never one handed out before in this process, and, in a test worker, from that worker's own
 * share of 20000-32767. A port handed out is free only at that moment: Pebble's HTTP-01 port, say, stays unbound
 * until acmectl answers a challenge on it, and another test file running in another worker (or another caller in
 * this one) must not be given it meanwhile.
 */
function candidatePort() {
  const worker = Number(process.env.VITEST_POOL_ID ?? 0);
  const [low, span] = worker > 0 ? [PORTS_LOW + ((worker - 1) % PORT_LANES) * LANE_SPAN, LANE_SPAN] : [PORTS_LOW, PORTS_SPAN];
  let port = low;
  // Bounded: a process that was given most of its share gets a repeat rather than a hang.
  for (let draw = 0; draw < 10 * span; draw += 1) {
    port = low + Math.floor(Math.random() * span);
    if (!handedOut.has(port)) break;
  }
  handedOut.add(port);
  return port;
}
const PORTS_LOW = 20000;
const PORTS_SPAN = 12768;
const PORT_LANES = 4;
const LANE_SPAN = Math.floor(PORTS_SPAN / PORT_LANES);
/** Ports this process was given (or tried): never given twice. */
const handedOut = new Set();

/** True when a TCP listener could be opened on host:port just now (and was closed again). */
function canListen(host, port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A port free for BOTH UDP and TCP on `host` (a DNS server binds both).
 * @param {string} [host]
 * @returns {Promise<number>}
 */
export async function freeDnsPort(host = '127.0.0.1') {
  // Below the ephemeral range, and never a port given before, for the reasons given at freePort.
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = candidatePort();
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const udpFree = await new Promise((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, host, () => resolve(true));
    });
    try {
      if (udpFree && (await canListen(host, port))) return port;
    } finally {
      try {
        socket.close();
      } catch {
        // never bound: nothing to close
      }
    }
  }
  throw new Error(`could not find a port free for both UDP and TCP on ${host}`);
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

/** Keeps the last `limit` bytes of a stream, for error messages. */
class BoundedOutput {
  /** @param {number} limit */
  constructor(limit) {
    this.limit = limit;
    /** @type {Buffer[]} */
    this.chunks = [];
    this.size = 0;
  }

  /** @param {Buffer | string} chunk */
  append(chunk) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    this.chunks.push(buffer);
    this.size += buffer.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      this.size -= /** @type {Buffer} */ (this.chunks.shift()).length;
    }
  }

  text() {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/**
 * @param {string} text
 * @param {number} count
 */
function tailLines(text, count) {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

/** Children still running, killed synchronously if this process exits without stopping them. */
/** @type {Set<ManagedProcess>} */
const liveProcesses = new Set();
/** Temp dirs not yet removed by stop(), removed synchronously at exit. */
/** @type {Set<string>} */
const liveTempDirs = new Set();
let exitHandlerInstalled = false;

function installExitHandler() {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  // 'exit' handlers must be synchronous: send the signals (the children die on their own) and
  // delete what we created. Not reached when node itself dies from a signal it does not handle.
  process.on('exit', () => {
    for (const managed of liveProcesses) managed.killNow();
    for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * A long-running child whose output is captured (bounded, never printed) and which is killed
 * when this process exits, so no server outlives the test run that started it.
 */
export class ManagedProcess {
  /**
   * @param {string} name short label used in error messages
   * @param {string} command
   * @param {string[]} args
   * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, exitSignal?: NodeJS.Signals }} [options]
   *   exitSignal: what to send from the 'exit' handler (default SIGKILL; nginx wants SIGTERM so
   *   its master takes the workers down with it)
   */
  constructor(name, command, args, options = {}) {
    this.name = name;
    this.commandLine = [command, ...args.map((arg) => (arg === '' || /\s/.test(arg) ? JSON.stringify(arg) : arg))].join(' ');
    this.output = new BoundedOutput(OUTPUT_LIMIT_BYTES);
    this.exitSignal = options.exitSignal ?? 'SIGKILL';
    /** @type {{ code: number | null, signal: NodeJS.Signals | null } | undefined} */
    this.exitStatus = undefined;
    /** @type {Error | undefined} */
    this.spawnError = undefined;

    installExitHandler();
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid;
    this.child.stdout?.on('data', (chunk) => this.output.append(chunk));
    this.child.stderr?.on('data', (chunk) => this.output.append(chunk));
    // A forgotten handle must not keep node running forever: the 'exit' handler kills it instead.
    this.child.unref();
    for (const stream of [this.child.stdout, this.child.stderr]) {
      /** @type {import('node:net').Socket | null} */ (stream)?.unref();
    }
    liveProcesses.add(this);

    /** Resolves once the process has exited (or failed to spawn). */
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.spawnError = error;
        liveProcesses.delete(this);
        resolve(undefined);
      });
      this.child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        liveProcesses.delete(this);
        resolve(undefined);
      });
    });
    /** Resolves once the process has exited AND its output pipes are drained. */
    this.closed = new Promise((resolve) => {
      this.child.once('close', () => resolve(undefined));
      this.child.once('error', () => resolve(undefined));
    });
  }

  /**
   * Waits (at most `maxMs`) for the output of an exited process to be fully captured, so that
   * reports include its last words.
   * @param {number} [maxMs]
   */
  async drainOutput(maxMs = 500) {
    let timer;
    await Promise.race([this.closed, new Promise((resolve) => (timer = setTimeout(resolve, maxMs)))]);
    clearTimeout(timer);
  }

  /** True while the process has neither exited nor failed to spawn. */
  get running() {
    return this.exitStatus === undefined && this.spawnError === undefined;
  }

  /** The last `count` lines of captured stdout+stderr. */
  outputTail(count = 30) {
    return tailLines(this.output.text(), count);
  }

  /** Why the process is not running, for error messages ('' while running). */
  describeExit() {
    if (this.spawnError) return `${this.name} could not be started (${this.spawnError.message})`;
    if (!this.exitStatus) return '';
    const { code, signal } = this.exitStatus;
    return `${this.name} exited ${signal ? `on signal ${signal}` : `with code ${code}`}`;
  }

  /** A multi-line description: command line, exit status and the last lines of output. */
  report(lineCount = 30) {
    const tail = this.outputTail(lineCount);
    return [
      `${this.name}: ${this.commandLine}`,
      this.running ? `${this.name} is still running (pid ${this.pid})` : this.describeExit(),
      tail ? `last output of ${this.name}:\n${tail}` : `${this.name} printed nothing`,
    ].join('\n');
  }

  /** Sends the exit signal without waiting (safe in 'exit' handlers). */
  killNow() {
    if (this.running) {
      try {
        this.child.kill(this.exitSignal);
      } catch {
        // already gone
      }
    }
  }

  /**
   * Guarantees the process has exited when the promise resolves: SIGTERM, then SIGKILL after
   * `graceMs`. Safe to call more than once.
   * @param {number} [graceMs]
   */
  async stop(graceMs = STOP_GRACE_MS) {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.running) this.child.kill('SIGKILL');
    }, graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP(S)
// ---------------------------------------------------------------------------------------------

/** What the harness's own requests say they are: Pebble 2.10 refuses requests without a User-Agent. */
export const HARNESS_USER_AGENT = 'acmectl-test-harness';

/**
 * Sends a request to `url` (http: or https:; GET unless `method` says otherwise) and returns status, headers
 * and body text. For https the server certificate is verified against `ca` (PEM) when given, else the system
 * roots; verification is never disabled. Sends User-Agent: HARNESS_USER_AGENT unless `headers` has one.
 * @param {string} url
 * @param {{ ca?: string | Buffer, timeoutMs?: number, method?: string, body?: string, headers?: Record<string, string> }} [options]
 * @returns {Promise<{ status: number, headers: import('node:http').IncomingHttpHeaders, body: string }>}
 */
export function requestText(url, options = {}) {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const method = options.method ?? 'GET';
  /** @type {Record<string, string | number>} */
  const headers = { 'user-agent': HARNESS_USER_AGENT };
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      { method, headers, ...(options.ca ? { ca: options.ca } : {}), agent: false },
      (response) => {
        /** @type {Buffer[]} */
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    request.setTimeout(options.timeoutMs ?? 5_000, () => request.destroy(new Error(`${method} ${url} timed out`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

/**
 * Polls `probe` (errors count as "not yet") until it resolves true. Rejects, with the process's
 * command line, exit status and last output, when `process` exits first or `deadlineMs` passes.
 * @param {{
 *   probe: () => Promise<boolean>,
 *   process: ManagedProcess,
 *   what: string,
 *   deadlineMs?: number,
 * }} spec
 */
export async function waitUntilServing({ probe, process: managed, what, deadlineMs = STARTUP_DEADLINE_MS }) {
  const deadline = Date.now() + deadlineMs;
  let lastError = '';
  for (;;) {
    if (!managed.running) {
      await managed.drainOutput();
      throw new Error(`${what} never came up: ${managed.describeExit()}.\n${managed.report()}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what} did not answer within ${deadlineMs / 1000} s` +
          (lastError ? ` (last error: ${lastError})` : '') +
          `.\n${managed.report()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---------------------------------------------------------------------------------------------
// Certificates for Pebble's own HTTPS listener
// ---------------------------------------------------------------------------------------------

/**
 * Writes a throwaway CA and a `localhost` server certificate signed by it into `dir`.
 * Both EC P-256, valid for 3 days. The server certificate covers DNS:localhost, IP:127.0.0.1
 * and IP:::1 so clients can reach Pebble by any of them with verification on.
 * @param {string} dir
 * @returns {Promise<{ caCertPath: string, serverCertPath: string, serverKeyPath: string }>}
 */
export async function generateLocalhostCertificates(dir) {
  const caKeyPath = join(dir, 'harness-ca-key.pem');
  const caCertPath = join(dir, 'harness-ca-cert.pem');
  const serverKeyPath = join(dir, 'localhost-key.pem');
  const serverCsrPath = join(dir, 'localhost.csr');
  const serverCertPath = join(dir, 'localhost-cert.pem');
  const serverExtPath = join(dir, 'localhost-ext.cnf');

  /** @param {string[]} args */
  const openssl = async (args) => {
    const result = await runCommand('openssl', args, { cwd: dir });
    if (result.code !== 0) {
      throw new Error(`openssl ${args.join(' ')} failed (code ${result.code}):\n${tailLines(result.output, 20)}`);
    }
  };
  const ecKey = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  // A random CN makes each harness CA distinct, so a stale bundle can never accidentally verify.
  const caName = `acmectl test harness CA ${randomBytes(4).toString('hex')}`;

  await openssl([...ecKey, '-out', caKeyPath]);
  await openssl([
    'req', '-x509', '-new', '-key', caKeyPath, '-sha256', '-days', '3',
    '-subj', `/CN=${caName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', caCertPath,
  ]);
  await openssl([...ecKey, '-out', serverKeyPath]);
  await openssl(['req', '-new', '-key', serverKeyPath, '-subj', '/CN=localhost', '-out', serverCsrPath]);
  await writeFile(
    serverExtPath,
    [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  await openssl([
    'x509', '-req', '-in', serverCsrPath, '-CA', caCertPath, '-CAkey', caKeyPath,
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-sha256', '-days', '3',
    '-extfile', serverExtPath, '-out', serverCertPath,
  ]);
  await chmod(caKeyPath, 0o600);
  await chmod(serverKeyPath, 0o600);
  return { caCertPath, serverCertPath, serverKeyPath };
}
// ---------------------------------------------------------------------------------------------
// Pebble
// ---------------------------------------------------------------------------------------------

/**
 * A certificate profile of Pebble 2.10 (config key "pebble.profiles", offered in the directory's meta.profiles).
 * @typedef {object} PebbleProfile
 * @property {string} description what the directory says about it
 * @property {number} validityPeriod lifetime of its certificates, in seconds
 */

/**
 * The profiles `startPebble({ version: 'ari' })` configures unless told otherwise, named and timed like Let's
 * Encrypt's: "classic" (90 days) and "shortlived" (160 hours). Pebble 2.10 gives an order that names no profile
 * one of them AT RANDOM (so that clients do not rely on a default): a test that depends on the lifetime names
 * the profile, or configures a single one.
 * @type {Readonly<Record<string, Readonly<PebbleProfile>>>}
 */
export const DEFAULT_ARI_PROFILES = Object.freeze({
  classic: Object.freeze({ description: 'acmectl tests: 90-day certificates', validityPeriod: 90 * 24 * 3600 }),
  shortlived: Object.freeze({ description: 'acmectl tests: 160-hour certificates', validityPeriod: 160 * 3600 }),
});

/**
 * @typedef {object} StartPebbleOptions
 * @property {'stable' | 'ari'} [version] 'stable' (default): Debian stable's Pebble 2.4, a CA without ARI or
 *   profiles; 'ari': Pebble 2.10 from Debian unstable (ensurePebbleAri), with renewalInfo and profiles
 * @property {Record<string, PebbleProfile>} [profiles] with version 'ari': the profiles to configure (default
 *   DEFAULT_ARI_PROFILES); refused with 'stable'
 * @property {boolean} [eab] require External Account Binding, with PEBBLE_EAB_KEYS
 * @property {Record<string, string>} [env] extra environment for pebble (PEBBLE_WFE_NONCEREJECT, ...)
 * @property {number} [httpPort] where Pebble's VA connects for HTTP-01 (default: a free port)
 * @property {Record<string, unknown>} [config] extra keys merged into the "pebble" config object
 * @property {LogFn} [log] progress notes (installation); default stderr
 */

/**
 * @typedef {object} RenewalWindow what setRenewalInfo makes Pebble answer for a certificate
 * @property {Date | string} start Dates are sent as RFC 3339 (whole seconds, UTC); strings as they are
 * @property {Date | string} end
 * @property {string} [explanationURL]
 */

/**
 * @typedef {object} RenewalInfoAnswer what Pebble's renewalInfo resource answers for a certificate
 * @property {number} status
 * @property {string | undefined} retryAfter the Retry-After header
 * @property {{ start: string, end: string } | undefined} suggestedWindow
 * @property {string | undefined} explanationURL
 * @property {string} body
 */

/**
 * @typedef {object} PebbleHandle
 * @property {'stable' | 'ari'} version
 * @property {string} directoryUrl https://localhost:<port>/dir
 * @property {string | undefined} renewalInfoUrl the directory's renewalInfo (version 'ari' only)
 * @property {Readonly<Record<string, PebbleProfile>>} profiles the configured profiles ({} for 'stable')
 * @property {string} caBundlePath PEM of the CA that signed Pebble's HTTPS certificate
 * @property {string} managementUrl https://127.0.0.1:<port> (Pebble's management interface)
 * @property {number} httpPort
 * @property {number} tlsPort
 * @property {number} dnsPort
 * @property {string} dnsServer 127.0.0.1:<dnsPort>, pebble-challtestsrv's DNS server
 * @property {string} challtestsrvManagementUrl http://127.0.0.1:<port>
 * @property {string} dir
 * @property {string} configPath
 * @property {{ pebble: number | undefined, challtestsrv: number | undefined }} pids
 * @property {() => Promise<string>} rootCertificatePem
 * @property {() => Promise<string>} intermediateCertificatePem
 * @property {(certificatePem: string, window: RenewalWindow) => Promise<void>} setRenewalInfo
 * @property {(certificatePem: string) => Promise<RenewalInfoAnswer>} renewalInfo
 * @property {(lineCount?: number) => string} logs
 * @property {() => Promise<void>} stop
 */

/**
 * Starts pebble-challtestsrv (DNS answering 127.0.0.1 for every A query, nothing for AAAA, no
 * challenge servers of its own) and Pebble (using it as DNS server) on free loopback ports, with a
 * freshly generated HTTPS CA. Resolves only once Pebble's directory answers over verified HTTPS (and,
 * with version 'ari', offers renewalInfo and the configured profiles); rejects with the processes' last
 * output otherwise (after cleaning up).
 * @param {StartPebbleOptions} [options]
 * @returns {Promise<PebbleHandle>}
 */
export async function startPebble(options = {}) {
  const version = options.version ?? 'stable';
  if (version !== 'stable' && version !== 'ari') {
    throw new Error(`startPebble: version must be 'stable' or 'ari', not ${JSON.stringify(version)}`);
  }
  if (options.profiles !== undefined) {
    if (version !== 'ari') throw new Error("startPebble: profiles need version: 'ari' (Debian stable's Pebble 2.4 has none)");
    checkProfiles(options.profiles);
  }
  // Debian stable's package also provides pebble-challtestsrv, used with either Pebble: its flags are the
  // ones this harness passes (2.10's renamed -dns01 and would open a DNS-over-HTTPS port of its own).
  await ensurePebbleInstalled({ log: options.log });
  await ensureOpensslInstalled({ log: options.log });
  const pebbleCommand = version === 'ari' ? (await ensurePebbleAri({ log: options.log })).pebble : 'pebble';

  installExitHandler();
  const dir = await mkdtemp(join(tmpdir(), 'acmectl-pebble-'));
  liveTempDirs.add(dir);
  try {
    const certificates = await generateLocalhostCertificates(dir);
    // Ports are picked and then bound by the children, so another process can steal one in
    // between; when a bind fails, pick fresh ports and try again.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await launchPebble(dir, certificates, { ...options, version, pebbleCommand });
      } catch (error) {
        if (!(error instanceof PortInUseError) || attempt >= 3) throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    liveTempDirs.delete(dir);
    throw error;
  }
}

class PortInUseError extends Error {}

/** @param {unknown} profiles */
function checkProfiles(profiles) {
  if (!profiles || typeof profiles !== 'object' || Array.isArray(profiles)) {
    throw new Error('startPebble: profiles must be an object: name -> { description, validityPeriod }');
  }
  for (const [name, profile] of Object.entries(profiles)) {
    const { description, validityPeriod } = /** @type {Partial<PebbleProfile>} */ (profile ?? {});
    if (!name || typeof description !== 'string' || !Number.isInteger(validityPeriod) || /** @type {number} */ (validityPeriod) <= 0) {
      throw new Error(
        `startPebble: profile ${JSON.stringify(name)} must be { description: string, validityPeriod: whole seconds > 0 }, not ${JSON.stringify(profile)}`,
      );
    }
  }
}

/**
 * Throws unless `directory` (a parsed ACME directory) offers renewalInfo and meta.profiles with every name in
 * `profileNames`: what startPebble({ version: 'ari' }) checks before handing out a Pebble, so that tests of ARI
 * and profiles never run against a CA without them.
 * @param {unknown} directory
 * @param {string[]} profileNames
 * @param {string} where names the CA in the error message
 */
export function assertAriDirectory(directory, profileNames, where) {
  const parsed = /** @type {{ renewalInfo?: unknown, meta?: { profiles?: unknown } } | null} */ (
    directory && typeof directory === 'object' ? directory : null
  );
  const problems = [];
  if (typeof parsed?.renewalInfo !== 'string' || !parsed.renewalInfo) {
    problems.push('no "renewalInfo" (ACME Renewal Information, RFC 9773)');
  }
  const offered = parsed?.meta?.profiles;
  if (!offered || typeof offered !== 'object' || Array.isArray(offered)) {
    problems.push('no "meta.profiles"');
  } else {
    const missing = profileNames.filter((name) => typeof (/** @type {Record<string, unknown>} */ (offered))[name] !== 'string');
    if (missing.length > 0) problems.push(`no profile ${missing.map((name) => JSON.stringify(name)).join(', ')} in meta.profiles`);
  }
  if (problems.length > 0) {
    throw new Error(
      `${where} is not a CA with ARI and profiles: its directory has ${problems.join(' and ')}; ` +
        `startPebble({ version: 'ari' }) needs Pebble ${PEBBLE_ARI_VERSION_PREFIX}. The directory: ${JSON.stringify(directory).slice(0, 600)}`,
    );
  }
}

/**
 * @param {string} dir
 * @param {{ caCertPath: string, serverCertPath: string, serverKeyPath: string }} certificates
 * @param {StartPebbleOptions & { version: 'stable' | 'ari', pebbleCommand: string }} options
 * @returns {Promise<PebbleHandle>}
 */
async function launchPebble(dir, certificates, options) {
  const { version, pebbleCommand } = options;
  const defaultAcmePort = await freePort();
  const defaultManagementPort = await freePort();
  const challtestsrvManagementPort = await freePort();
  const dnsPort = await freeDnsPort();
  const defaultHttpPort = options.httpPort ?? (await freePort());
  const defaultTlsPort = await freePort();

  /** @type {{ pebble: Record<string, unknown> & { listenAddress: unknown, managementListenAddress: unknown, httpPort: unknown, tlsPort: unknown } }} */
  const pebbleConfig = {
    pebble: {
      listenAddress: `127.0.0.1:${defaultAcmePort}`,
      managementListenAddress: `127.0.0.1:${defaultManagementPort}`,
      certificate: certificates.serverCertPath,
      privateKey: certificates.serverKeyPath,
      httpPort: defaultHttpPort,
      tlsPort: defaultTlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: Boolean(options.eab),
      ...(options.eab ? { externalAccountMACKeys: { ...PEBBLE_EAB_KEYS } } : {}),
      ...(version === 'ari' ? { profiles: options.profiles ?? DEFAULT_ARI_PROFILES } : {}),
      ...options.config,
    },
  };
  // options.config may override any of the above; the handle describes what Pebble really uses.
  const acmePort = portOf(pebbleConfig.pebble.listenAddress, 'listenAddress');
  const managementPort = portOf(pebbleConfig.pebble.managementListenAddress, 'managementListenAddress');
  const httpPort = Number(pebbleConfig.pebble.httpPort);
  const tlsPort = Number(pebbleConfig.pebble.tlsPort);
  const profiles = /** @type {Record<string, PebbleProfile>} */ (version === 'ari' ? pebbleConfig.pebble['profiles'] ?? {} : {});
  const configPath = join(dir, 'pebble-config.json');
  await writeFile(configPath, `${JSON.stringify(pebbleConfig, null, 2)}\n`);

  const caPem = await readFile(certificates.caCertPath);
  const dnsServer = `127.0.0.1:${dnsPort}`;
  const challtestsrvManagementUrl = `http://127.0.0.1:${challtestsrvManagementPort}`;
  const managementUrl = `https://127.0.0.1:${managementPort}`;
  const directoryUrl = `https://localhost:${acmePort}/dir`;

  // Empty values disable challtestsrv's own HTTP-01/HTTPS/TLS-ALPN responders and its AAAA answers:
  // the CA must reach the client under test (or nginx) on 127.0.0.1:<httpPort>, nothing else.
  const challtestsrv = new ManagedProcess('pebble-challtestsrv', 'pebble-challtestsrv', [
    '-management', `127.0.0.1:${challtestsrvManagementPort}`,
    '-dns01', dnsServer,
    '-http01', '',
    '-https01', '',
    '-tlsalpn01', '',
    '-defaultIPv4', '127.0.0.1',
    '-defaultIPv6', '',
  ], { cwd: dir });
  const pebble = new ManagedProcess('pebble', pebbleCommand, ['-config', configPath, '-dnsserver', dnsServer], {
    cwd: dir,
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', ...options.env },
  });

  /** @type {Promise<void> | undefined} */
  let stopping;
  // Memoized so that concurrent callers (e.g. a SIGINT handler and a finally block) all wait for
  // the same, complete shutdown.
  const stop = () =>
    (stopping ??= (async () => {
      await Promise.all([pebble.stop(), challtestsrv.stop()]);
      await rm(dir, { recursive: true, force: true });
      liveTempDirs.delete(dir);
    })());

  /** @type {string | undefined} */
  let renewalInfoUrl;
  /** The process whose report is not already part of the startup error. */
  let otherProcess = pebble;
  try {
    await waitUntilServing({
      what: 'pebble-challtestsrv',
      process: challtestsrv,
      // Any HTTP answer (404 included) means the management server, started last, is up.
      probe: async () => (await requestText(`${challtestsrvManagementUrl}/`, { timeoutMs: 1_000 })).status > 0,
    });
    otherProcess = challtestsrv;
    await waitUntilServing({
      what: 'pebble',
      process: pebble,
      probe: async () => {
        if (!challtestsrv.running) throw new Error(challtestsrv.describeExit());
        const response = await requestText(`https://127.0.0.1:${acmePort}/dir`, { ca: caPem, timeoutMs: 2_000 });
        return response.status === 200;
      },
    });
    if (version === 'ari') {
      // Never test ARI or profiles against a CA without them: a wrong binary in the cache fails here, loudly.
      const response = await requestText(directoryUrl, { ca: caPem });
      try {
        const directory = JSON.parse(response.body);
        assertAriDirectory(directory, Object.keys(profiles), `Pebble ${pebbleCommand} at ${directoryUrl}`);
        renewalInfoUrl = directory.renewalInfo;
      } catch (error) {
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n${pebble.report()}`);
      }
    }
  } catch (error) {
    const otherReport = otherProcess.report(); // before stop(), so it shows the state at failure
    await Promise.all([pebble.stop(), challtestsrv.stop()]);
    await Promise.all([pebble.drainOutput(), challtestsrv.drainOutput()]);
    const message = `${error instanceof Error ? error.message : String(error)}\n\n${otherReport}`;
    const portTaken = /address already in use/i.test(`${pebble.outputTail(50)}\n${challtestsrv.outputTail(50)}`);
    throw portTaken ? new PortInUseError(message) : new Error(message);
  }

  /** @param {string} path */
  const managementPem = async (path) => {
    const response = await requestText(`${managementUrl}${path}`, { ca: caPem });
    if (response.status !== 200) {
      throw new Error(`GET ${managementUrl}${path} answered ${response.status}: ${response.body.slice(0, 200)}`);
    }
    return response.body;
  };

  /** @param {string} what */
  const needsAri = (what) => {
    if (version !== 'ari') throw new Error(`${what} needs a Pebble with ARI: startPebble({ version: 'ari' })`);
    return /** @type {string} */ (renewalInfoUrl);
  };

  /**
   * Pebble's management endpoint: from now on, the renewalInfo of this certificate (found by its serial) is
   * `window`. Pebble keeps it in memory only, like everything else.
   * @param {string} certificatePem the certificate (a full chain is fine: its first certificate counts)
   * @param {RenewalWindow} window
   */
  const setRenewalInfo = async (certificatePem, window) => {
    needsAri('setRenewalInfo()');
    const certificate = firstCertificatePem(certificatePem);
    const ariResponse = {
      suggestedWindow: { start: rfc3339(window.start), end: rfc3339(window.end) },
      ...(window.explanationURL !== undefined ? { explanationURL: window.explanationURL } : {}),
    };
    const url = `${managementUrl}/set-renewal-info/`;
    // The body Pebble's handler decodes: the certificate PEM, and the renewalInfo JSON it is to serve, as a string.
    const response = await requestText(url, {
      ca: caPem,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ certificate, ariResponse: JSON.stringify(ariResponse) }),
    });
    if (response.status !== 200) {
      const hint = response.status === 404 ? ' (not a certificate this Pebble issued: each Pebble starts with a new CA and forgets its certificates when stopped)' : '';
      throw new Error(`POST ${url} answered ${response.status}${hint}: ${response.body.slice(0, 300)}`);
    }
  };

  /**
   * GET <renewalInfoUrl>/<CertID>, as an ACME client asks.
   * @param {string} certificatePem
   * @returns {Promise<RenewalInfoAnswer>}
   */
  const renewalInfo = async (certificatePem) => {
    const url = `${needsAri('renewalInfo()')}/${ariCertId(certificatePem)}`;
    const response = await requestText(url, { ca: caPem });
    /** @type {{ suggestedWindow?: { start: string, end: string }, explanationURL?: string }} */
    let parsed = {};
    try {
      parsed = JSON.parse(response.body);
    } catch {
      // a problem document or nothing: the status and body say what happened
    }
    const retryAfter = response.headers['retry-after'];
    return {
      status: response.status,
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      suggestedWindow: parsed?.suggestedWindow,
      explanationURL: parsed?.explanationURL,
      body: response.body,
    };
  };

  return {
    version,
    directoryUrl,
    renewalInfoUrl,
    profiles: Object.freeze({ ...profiles }),
    caBundlePath: certificates.caCertPath,
    managementUrl,
    httpPort,
    tlsPort,
    dnsPort,
    dnsServer,
    challtestsrvManagementUrl,
    dir,
    configPath,
    pids: { pebble: pebble.pid, challtestsrv: challtestsrv.pid },
    rootCertificatePem: () => managementPem('/roots/0'),
    intermediateCertificatePem: () => managementPem('/intermediates/0'),
    setRenewalInfo,
    renewalInfo,
    logs: (lineCount = 50) => `${pebble.report(lineCount)}\n\n${challtestsrv.report(lineCount)}`,
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// ACME Renewal Information (RFC 9773) helpers
// ---------------------------------------------------------------------------------------------

/**
 * The first certificate of a PEM text (checked to parse), as PEM.
 * @param {string} pem
 */
function firstCertificatePem(pem) {
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!match) throw new Error('expected a PEM certificate (-----BEGIN CERTIFICATE-----)');
  new X509Certificate(match[0]); // throws on a damaged certificate, before Pebble says "400"
  return `${match[0]}\n`;
}

/** @param {Date | string} value */
function rfc3339(value) {
  return value instanceof Date ? value.toISOString().replace(/\.\d{3}Z$/, 'Z') : value;
}

/**
 * The certificate's ARI CertID (RFC 9773 section 4.1): base64url(keyIdentifier of its Authority Key Identifier)
 * "." base64url(the DER content octets of its serial number, leading zero included). Read from the DER
 * here, since node:crypto exposes neither the AKI nor the serial's exact encoding.
 * @param {string} certificatePem (a full chain is fine: its first certificate counts)
 */
export function ariCertId(certificatePem) {
  const der = new X509Certificate(firstCertificatePem(certificatePem)).raw;
  const certificate = derElement(der, 0);
  const tbs = derElement(der, certificate.contentStart);
  let field = derElement(der, tbs.contentStart);
  if (field.tag === 0xa0) field = derElement(der, field.end); // [0] version
  if (field.tag !== 0x02) throw new Error('ariCertId: no serial number where the certificate should have it');
  const serial = der.subarray(field.contentStart, field.end);
  // serial, signature, issuer, validity, subject, subjectPublicKeyInfo, then optional [1], [2], [3] extensions
  let extensions;
  for (let at = field.end; at < tbs.end; ) {
    const element = derElement(der, at);
    if (element.tag === 0xa3) extensions = derElement(der, element.contentStart);
    at = element.end;
  }
  if (!extensions) throw new Error('ariCertId: the certificate has no extensions, so no Authority Key Identifier');
  const akiOid = Buffer.from([0x55, 0x1d, 0x23]); // 2.5.29.35
  for (let at = extensions.contentStart; at < extensions.end; ) {
    const extension = derElement(der, at);
    at = extension.end;
    const oid = derElement(der, extension.contentStart);
    if (oid.tag !== 0x06 || !der.subarray(oid.contentStart, oid.end).equals(akiOid)) continue;
    let value = derElement(der, oid.end);
    if (value.tag === 0x01) value = derElement(der, value.end); // critical BOOLEAN
    const aki = derElement(der, value.contentStart); // AuthorityKeyIdentifier SEQUENCE
    for (let inner = aki.contentStart; inner < aki.end; ) {
      const part = derElement(der, inner);
      if (part.tag === 0x80) {
        return `${der.subarray(part.contentStart, part.end).toString('base64url')}.${serial.toString('base64url')}`;
      }
      inner = part.end;
    }
  }
  throw new Error('ariCertId: the certificate has no Authority Key Identifier with a keyIdentifier');
}

/**
 * The DER element (single-byte tag, definite length) starting at `at`.
 * @param {Buffer} der
 * @param {number} at
 */
function derElement(der, at) {
  const tag = der[at];
  let length = der[at + 1];
  if (tag === undefined || length === undefined) throw new Error('ariCertId: truncated DER');
  let contentStart = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw new Error('ariCertId: unsupported DER length');
    length = 0;
    for (let i = 0; i < octets; i += 1) length = length * 256 + /** @type {number} */ (der[contentStart + i]);
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > der.length) throw new Error('ariCertId: truncated DER');
  return { tag, contentStart, end };
}

/**
 * The port of a Pebble "host:port" listen address.
 * @param {unknown} address
 * @param {string} key config key, for the error message
 */
function portOf(address, key) {
  const match = typeof address === 'string' ? /:(\d+)$/.exec(address) : null;
  if (!match) throw new Error(`startPebble: config.${key} must be "host:port", got ${JSON.stringify(address)}`);
  return Number(match[1]);
}

/** @param {string} line */
function defaultLog(line) {
  process.stderr.write(`${line}\n`);
}
