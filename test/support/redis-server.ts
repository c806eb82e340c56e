// A real redis-server (Debian's, Redis 7) on loopback for the Redis store tests: free ports, its own temp
// directory, optional password and TLS listener, killed when the test process exits.
import { rmSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  ensureCommandsInstalled,
  ensureOpensslInstalled,
  findExecutable,
  freePort,
  generateLocalhostCertificates,
  ManagedProcess,
  waitUntilServing,
} from './pebble.js';

export interface StartRedisOptions {
  /** Require this password (`requirepass`, i.e. the `default` user's password). */
  password?: string;
  /** Also listen with TLS on a second port, with a certificate for localhost/127.0.0.1 from a fresh test CA. */
  tls?: boolean;
}

export interface RedisServerHandle {
  /** redis://127.0.0.1:<port>/0 — never contains the password. */
  url: string;
  port: number;
  /** With `tls`: rediss://127.0.0.1:<tlsPort>/0, its port and the PEM of the CA that signed its certificate. */
  tls?: { url: string; port: number; caPem: string };
  /** The server's working directory (append-only file), kept across stop()/kill()/restart(). */
  dir: string;
  /** Shuts the server down with SIGTERM: it writes everything to its append-only file first. */
  stop(): Promise<void>;
  /** SIGKILL, to simulate a crash (the last second of writes may be lost). */
  kill(): Promise<void>;
  /** Starts the server again on the same ports with the same directory (and so the same data). */
  restart(): Promise<void>;
  /** Stops the server and deletes its directory. */
  dispose(): Promise<void>;
  /** The server's last log lines, for failure messages. */
  logs(): string;
}

const REDIS_SERVER_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin'];
const INSTALL_INSTRUCTIONS =
  'The Redis store tests need a real redis-server (Redis 7): on Debian/Ubuntu `sudo apt-get install redis-server`, ' +
  'on macOS `brew install redis`; then re-run.';

/** Temp directories still in use, removed synchronously if the process exits without dispose(). */
const liveDirs = new Set<string>();
let exitHandlerInstalled = false;

/**
 * Starts redis-server on a free 127.0.0.1 port (installing Debian's package when missing and running as root;
 * otherwise throwing with the instruction) and resolves once it answers PING. Persistence is an append-only file
 * (written and fsynced on every write, no RDB snapshots) so that restart() finds the data stop() or kill() left.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServerHandle> {
  await ensureCommandsInstalled({
    commands: ['redis-server'],
    aptPackage: 'redis-server',
    extraDirs: REDIS_SERVER_DIRS,
    manualInstructions: INSTALL_INSTRUCTIONS,
  });
  const binary = await findExecutable('redis-server', REDIS_SERVER_DIRS);
  if (binary === undefined) throw new Error(`redis-server not found after installation. ${INSTALL_INSTRUCTIONS}`);

  const dir = await mkdtemp(join(tmpdir(), 'acmectl-redis-'));
  liveDirs.add(dir);
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    // The server itself is killed by ManagedProcess's own exit handler; the directory is ours.
    process.on('exit', () => {
      for (const liveDir of liveDirs) rmSync(liveDir, { recursive: true, force: true });
    });
  }

  let tlsFiles: { caCertPath: string; serverCertPath: string; serverKeyPath: string } | undefined;
  if (options.tls) {
    await ensureOpensslInstalled();
    tlsFiles = await generateLocalhostCertificates(dir);
  }

  let server: ManagedProcess | undefined;
  let port = 0;
  let tlsPort = 0;
  const argsFor = (): string[] => [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--dir', dir,
    '--save', '',
    '--appendonly', 'yes',
    // always, not everysec: with everysec Redis may postpone even the write() of the file while an fsync is
    // slow (a loaded machine), so a put acknowledged just before kill() could be missing after restart().
    '--appendfsync', 'always',
    '--daemonize', 'no',
    '--logfile', '',
    '--loglevel', 'warning',
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
    ...(tlsFiles === undefined
      ? []
      : [
          '--tls-port', String(tlsPort),
          '--tls-cert-file', tlsFiles.serverCertPath,
          '--tls-key-file', tlsFiles.serverKeyPath,
          '--tls-ca-cert-file', tlsFiles.caCertPath,
          '--tls-auth-clients', 'no',
        ]),
  ];
  const launch = async (): Promise<void> => {
    const started = new ManagedProcess('redis-server', binary, argsFor(), { cwd: dir });
    server = started;
    await waitUntilServing({ probe: () => answersPing(port), process: started, what: `redis-server on port ${port}` });
  };

  // A free port can be taken by someone else before redis-server binds it; try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    if (tlsFiles !== undefined) tlsPort = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      await server?.stop();
      if (attempt === 3) {
        liveDirs.delete(dir);
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  const handle: RedisServerHandle = {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    dir,
    stop: async () => {
      await server?.stop(5_000);
    },
    kill: async () => {
      server?.killNow(); // ManagedProcess's exit signal is SIGKILL
      await server?.exited;
    },
    restart: async () => {
      if (server?.running) throw new Error('redis-server is still running; stop() or kill() it before restart()');
      await launch();
    },
    dispose: async () => {
      await server?.stop(5_000);
      liveDirs.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
    logs: () => server?.report() ?? '',
  };
  if (tlsFiles !== undefined) {
    handle.tls = { url: `rediss://127.0.0.1:${tlsPort}/0`, port: tlsPort, caPem: await readFile(tlsFiles.caCertPath, 'utf8') };
  }
  return handle;
}

/**
 * True once the server answers PING with PONG, or with NOAUTH (it is up and wants a password). LOADING and
 * silence mean not yet.
 */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}
