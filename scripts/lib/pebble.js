// Local ACME test CA harness: Let's Encrypt's Pebble plus pebble-challtestsrv as its DNS server.
//
// Plain ESM JavaScript (typed with JSDoc, declared in pebble.d.ts) because it is shared by the
// TypeScript tests and by `npm run demo`, which runs under plain node without a build step.
//
// Network: everything listens on and talks to 127.0.0.1 only.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, chmod, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

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
// Ports
// ---------------------------------------------------------------------------------------------

/**
 * A TCP port that was free on `host` a moment ago (the OS picked it; we closed it again).
 * Another process may still grab it before the caller binds it; startPebble retries on that.
 * @param {string} [host]
 * @returns {Promise<number>}
 */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the port the OS assigned'))));
    });
  });
}

/**
 * A port free for BOTH UDP and TCP on `host` (a DNS server binds both).
 * @param {string} [host]
 * @returns {Promise<number>}
 */
export async function freeDnsPort(host = '127.0.0.1') {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const udpPort = await new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve(socket.address().port));
    });
    try {
      const tcpFree = await new Promise((resolve) => {
        const server = net.createServer();
        server.once('error', () => resolve(false));
        server.listen({ host, port: udpPort, exclusive: true }, () => server.close(() => resolve(true)));
      });
      if (tcpFree) return /** @type {number} */ (udpPort);
    } finally {
      socket.close();
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
 * @typedef {object} StartPebbleOptions
 * @property {boolean} [eab] require External Account Binding, with PEBBLE_EAB_KEYS
 * @property {Record<string, string>} [env] extra environment for pebble (PEBBLE_WFE_NONCEREJECT, ...)
 * @property {number} [httpPort] where Pebble's VA connects for HTTP-01 (default: a free port)
 * @property {Record<string, unknown>} [config] extra keys merged into the "pebble" config object
 * @property {LogFn} [log] progress notes (installation); default stderr
 */

/**
 * @typedef {object} PebbleHandle
 * @property {string} directoryUrl https://localhost:<port>/dir
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
 * @property {(lineCount?: number) => string} logs
 * @property {() => Promise<void>} stop
 */

/**
 * Starts pebble-challtestsrv (DNS answering 127.0.0.1 for every A query, nothing for AAAA, no
 * challenge servers of its own) and Pebble (using it as DNS server) on free loopback ports, with a
 * freshly generated HTTPS CA. Resolves only once Pebble's directory answers over verified HTTPS;
 * rejects with the processes' last output otherwise (after cleaning up).
 * @param {StartPebbleOptions} [options]
 * @returns {Promise<PebbleHandle>}
 */
export async function startPebble(options = {}) {
  await ensurePebbleInstalled({ log: options.log });
  await ensureOpensslInstalled({ log: options.log });

  installExitHandler();
  const dir = await mkdtemp(join(tmpdir(), 'acmectl-pebble-'));
  liveTempDirs.add(dir);
  try {
    const certificates = await generateLocalhostCertificates(dir);
    // Ports are picked and then bound by the children, so another process can steal one in
    // between; when a bind fails, pick fresh ports and try again.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await launchPebble(dir, certificates, options);
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

/**
 * @param {string} dir
 * @param {{ caCertPath: string, serverCertPath: string, serverKeyPath: string }} certificates
 * @param {StartPebbleOptions} options
 * @returns {Promise<PebbleHandle>}
 */
async function launchPebble(dir, certificates, options) {
  const defaultAcmePort = await freePort();
  const defaultManagementPort = await freePort();
  const challtestsrvManagementPort = await freePort();
  const dnsPort = await freeDnsPort();
  const defaultHttpPort = options.httpPort ?? (await freePort());
  const defaultTlsPort = await freePort();

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
      ...options.config,
    },
  };
  // options.config may override any of the above; the handle describes what Pebble really uses.
  const acmePort = portOf(pebbleConfig.pebble.listenAddress, 'listenAddress');
  const managementPort = portOf(pebbleConfig.pebble.managementListenAddress, 'managementListenAddress');
  const httpPort = Number(pebbleConfig.pebble.httpPort);
  const tlsPort = Number(pebbleConfig.pebble.tlsPort);
  const configPath = join(dir, 'pebble-config.json');
  await writeFile(configPath, `${JSON.stringify(pebbleConfig, null, 2)}\n`);

  const caPem = await readFile(certificates.caCertPath);
  const dnsServer = `127.0.0.1:${dnsPort}`;
  const challtestsrvManagementUrl = `http://127.0.0.1:${challtestsrvManagementPort}`;
  const managementUrl = `https://127.0.0.1:${managementPort}`;

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
  const pebble = new ManagedProcess('pebble', 'pebble', ['-config', configPath, '-dnsserver', dnsServer], {
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

  return {
    directoryUrl: `https://localhost:${acmePort}/dir`,
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
    logs: (lineCount = 50) => `${pebble.report(lineCount)}\n\n${challtestsrv.report(lineCount)}`,
    stop,
  };
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
