// A real single-member etcd (Debian's etcd-server, 3.4+) on free loopback ports, for the etcd store tests.
//
//   const etcd = await startEtcd();          // etcd.url is etcd://127.0.0.1:<port>/acmectl-test/
//   ...
//   await etcd.stop();                       // stops it and removes its data directory
//
// When `etcd` is missing it is installed with apt-get (as root), else startEtcd() throws saying what to
// install: a test that needs etcd fails loudly instead of skipping.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureCommandsInstalled,
  findExecutable,
  freePort,
  generateLocalhostCertificates,
  ManagedProcess,
  requestText,
  waitUntilServing,
} from '../../scripts/lib/pebble.js';

export interface StartEtcdOptions {
  /** Serve clients over HTTPS with a throwaway CA (certificate for localhost, 127.0.0.1 and ::1). */
  tls?: boolean;
  /** More etcd flags, e.g. ['--auth-token-ttl', '1']. */
  extraArgs?: string[];
}

export interface EtcdServer {
  /** Store URL for acmectl: `etcd://127.0.0.1:<port>/acmectl-test/` (`etcd+https://localhost:...` with tls). */
  url: string;
  /** The client endpoint: `http://127.0.0.1:<port>` (`https://localhost:<port>` with tls). */
  clientUrl: string;
  clientPort: number;
  /** With tls: PEM of the CA that signed the server certificate. */
  caPem?: string;
  /** Stops etcd (SIGTERM, then SIGKILL) and removes its data directory. Idempotent. */
  stop(): Promise<void>;
  /** Kills etcd with SIGKILL, keeping its data, as a crash would. */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports with the same data (killing it first if it is running). */
  restart(): Promise<void>;
  /** True while the etcd process is running. */
  readonly running: boolean;
  /** Turns on etcd authentication with a `root` user (role root) having `password`. */
  enableAuth(password: string): Promise<void>;
  /** Command line, status and last output lines, for failure messages. */
  logs(): string;
}

const INSTALL_INSTRUCTIONS =
  'The etcd store tests run a real etcd (3.4 or later). Install it and re-run: on Debian/Ubuntu ' +
  '`sudo apt-get install etcd-server`; elsewhere put the `etcd` binary from https://github.com/etcd-io/etcd/releases on PATH.';

const liveDataDirs = new Set<string>();
let exitHandlerInstalled = false;

export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  await ensureCommandsInstalled({
    commands: ['etcd'],
    aptPackage: 'etcd-server',
    manualInstructions: INSTALL_INSTRUCTIONS,
    extraDirs: ['/usr/bin', '/usr/sbin'],
  });
  const etcdBinary = (await findExecutable('etcd', ['/usr/bin', '/usr/sbin']))!;
  const dir = mkdtempSync(join(tmpdir(), 'acmectl-etcd-'));
  liveDataDirs.add(dir);
  installExitHandler();

  const tls = options.tls === true ? await generateLocalhostCertificates(dir) : undefined;
  const caPem = tls === undefined ? undefined : readFileSync(tls.caCertPath, 'utf8');
  const clientScheme = tls === undefined ? 'http' : 'https';
  const clientHost = tls === undefined ? '127.0.0.1' : 'localhost';

  let clientPort = 0;
  let peerPort = 0;
  let managed: ManagedProcess | undefined;

  const launch = async (): Promise<void> => {
    const listen = `${clientScheme}://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const args = [
      '--name', 'default',
      '--data-dir', join(dir, 'data'),
      '--listen-client-urls', listen,
      '--advertise-client-urls', listen,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `default=${peer}`,
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      '--log-level', 'warn',
      ...(tls === undefined ? [] : ['--cert-file', tls.serverCertPath, '--key-file', tls.serverKeyPath]),
      ...(options.extraArgs ?? []),
    ];
    // ETCD_* variables of the surrounding environment would override these flags.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ETCD_')));
    managed = new ManagedProcess('etcd', etcdBinary, args, { env });
    await waitUntilServing({
      what: 'etcd',
      process: managed,
      probe: async () => {
        const answer = await requestText(`${clientScheme}://${clientHost}:${clientPort}/health`, {
          timeoutMs: 1_000,
          ...(caPem === undefined ? {} : { ca: caPem }),
        });
        return answer.status === 200 && /"health":\s*"true"/.test(answer.body);
      },
    });
  };

  // freePort() can lose a race with another process for the port; pick new ones and try again.
  for (let attempt = 1; ; attempt++) {
    clientPort = await freePort();
    peerPort = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      const report = managed?.report() ?? '';
      await managed?.stop();
      rmSync(join(dir, 'data'), { recursive: true, force: true });
      if (attempt >= 3 || !/address already in use/.test(report)) {
        liveDataDirs.delete(dir);
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  const clientUrl = `${clientScheme}://${clientHost}:${clientPort}`;
  const server: EtcdServer = {
    url: `${tls === undefined ? 'etcd' : 'etcd+https'}://${clientHost}:${clientPort}/acmectl-test/`,
    clientUrl,
    clientPort,
    ...(caPem === undefined ? {} : { caPem }),
    async stop() {
      await managed?.stop();
      liveDataDirs.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      if (managed?.running) {
        managed.child.kill('SIGKILL');
        await managed.exited;
      }
    },
    async restart() {
      await server.kill();
      await launch();
    },
    get running() {
      return managed?.running === true;
    },
    async enableAuth(password: string) {
      const call = async (path: string, body: object): Promise<void> => {
        const response = await fetch(`${clientUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
        const text = await response.text();
        if (response.status !== 200) throw new Error(`etcd ${path} answered ${response.status}: ${text}`);
      };
      if (caPem !== undefined) throw new Error('enableAuth() is implemented for plain-HTTP test servers only');
      await call('/v3/auth/role/add', { name: 'root' });
      await call('/v3/auth/user/add', { name: 'root', password });
      await call('/v3/auth/user/grant', { user: 'root', role: 'root' });
      await call('/v3/auth/enable', {});
    },
    logs() {
      return managed?.report() ?? 'etcd was never started';
    },
  };
  return server;
}

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  // ManagedProcess kills etcd itself at exit; what is left is its data (synchronously, as 'exit' requires).
  process.on('exit', () => {
    for (const dir of liveDataDirs) rmSync(dir, { recursive: true, force: true });
  });
}
