// A real nginx serving an ACME webroot on loopback, configured like a user's server, for
// end-to-end tests of `--webroot` issuance.
//
// Realism that matters: when tests run as root, nginx's workers run as `nobody` (like www-data on
// a user's server), so everything acmectl writes below the webroot must be world-readable
// (files 0644, directories 0755) and the webroot and ALL its ancestors must be traversable by
// "others". Use createWebroot() to get such a directory; startNginx() refuses roots that nobody
// could reach, instead of letting every validation fail with a puzzling 403.
import { constants as fsConstants, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { ensureCommandsInstalled, findExecutable, ManagedProcess, requestText, waitUntilServing, type LogFn } from './pebble.js';
import { tempDir } from './temp-dir.js';

/** Debian's nginx lives in /usr/sbin, which is not on non-root users' PATH. */
const SBIN_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/**
 * Guarantees an nginx binary is available afterwards (installing Debian's `nginx` with apt-get
 * when running as root) and returns its path; otherwise throws saying what to install.
 */
export async function ensureNginxInstalled({ log }: { log?: LogFn } = {}): Promise<string> {
  await ensureCommandsInstalled({
    commands: ['nginx'],
    aptPackage: 'nginx',
    extraDirs: SBIN_DIRS,
    manualInstructions:
      'Install nginx and re-run: on Debian/Ubuntu `sudo apt-get install nginx`; on macOS `brew install nginx`.',
    ...(log ? { log } : {}),
  });
  const nginx = await findExecutable('nginx', SBIN_DIRS);
  if (!nginx) throw new Error('nginx not found after installation check');
  return nginx;
}

export interface WebrootDirectory {
  /** The webroot: mode 0755, inside a 0755 parent made by tempDir('webroot'), inside the system temp dir. */
  root: string;
}

/**
 * Creates an empty webroot that nginx workers running as an unprivileged user can traverse
 * (tempDir() makes 0700 directories, which `nobody` could not enter; we open them to 0755). It is removed
 * like any tempDir(): at the end of the test, or after the file's tests when created in beforeAll.
 */
export async function createWebroot(): Promise<WebrootDirectory> {
  const parent = tempDir('webroot');
  await chmod(parent, 0o755);
  const root = join(parent, 'www');
  await mkdir(root);
  await chmod(root, 0o755); // explicit: the umask could have narrowed mkdir's mode
  return { root };
}

export interface StartNginxOptions {
  /** Port on `host` to listen on (for HTTP-01 tests: the Pebble handle's httpPort). */
  port: number;
  /** Webroot: `/.well-known/acme-challenge/<token>` is served from `<root>/.well-known/acme-challenge/<token>`. */
  root: string;
  /** Loopback address to listen on; default 127.0.0.1. */
  host?: string;
  log?: LogFn;
}

export interface NginxHandle {
  /** http://<host>:<port> */
  url: string;
  /** Master process id. */
  pid: number | undefined;
  /** The unprivileged user the workers run as ('nobody' when started as root), else undefined. */
  workerUser: string | undefined;
  /** Temp dir with config, pid file, logs and temp paths; removed by stop(). */
  dir: string;
  /** nginx's stderr/stdout plus the tail of its error log, for failure messages. */
  logs(lineCount?: number): Promise<string>;
  /** Stops nginx (SIGTERM, then SIGKILL), waits for the master to exit, removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts nginx in the foreground with a generated config (everything it writes stays in a temp
 * dir) serving only `/.well-known/acme-challenge/` from `root` and 404 for everything else.
 * Resolves once nginx answers HTTP on `host:port`.
 */
export async function startNginx(options: StartNginxOptions): Promise<NginxHandle> {
  const nginxBinary = await ensureNginxInstalled(options.log ? { log: options.log } : {});
  const host = options.host ?? '127.0.0.1';
  const root = resolve(options.root);
  const isRoot = process.getuid?.() === 0;
  const workerUser = isRoot ? 'nobody' : undefined;
  if (workerUser) await assertTraversableByOthers(root);

  // Not tempDir(): this belongs to the server, which may outlive the scope that started it; stop() removes it.
  const dir = await mkdtemp(join(tmpdir(), 'acmectl-nginx-'));
  // Workers (nobody) need to enter this dir to use the temp paths nginx creates in it.
  await chmod(dir, 0o755);
  const configPath = join(dir, 'nginx.conf');
  const errorLogPath = join(dir, 'error.log');
  await writeFile(configPath, renderConfig({ dir, host, port: options.port, root, errorLogPath, workerUser }));

  const nginx = new ManagedProcess('nginx', nginxBinary, ['-p', `${dir}/`, '-c', configPath, '-e', 'stderr'], {
    cwd: dir,
    // The master stops its workers on SIGTERM; SIGKILL would orphan them holding the port.
    exitSignal: 'SIGTERM',
  });

  const errorLogTail = async (lineCount: number): Promise<string> => {
    const errorLog = await readFile(errorLogPath, 'utf8').catch(() => '');
    const tail = errorLog.trimEnd().split('\n').slice(-lineCount).join('\n');
    return tail ? `last lines of ${errorLogPath}:\n${tail}` : `${errorLogPath} is empty`;
  };
  const logs = async (lineCount = 30): Promise<string> => `${nginx.report(lineCount)}\n${await errorLogTail(lineCount)}`;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await nginx.stop(5_000);
      await rm(dir, { recursive: true, force: true });
    })());

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${options.port}`;
  try {
    await waitUntilServing({
      what: 'nginx',
      process: nginx,
      // Any HTTP status (404 for "/") means a worker is accepting connections.
      probe: async () => (await requestText(`${url}/`, { timeoutMs: 1_000 })).status > 0,
    });
  } catch (error) {
    // Read logs and config before stop() deletes the temp dir.
    const details = `${await errorLogTail(20)}\nconfig ${configPath}:\n${await readFile(configPath, 'utf8')}`;
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${details}`);
  }

  return { url, pid: nginx.pid, workerUser, dir, logs, stop };
}

function renderConfig(spec: {
  dir: string;
  host: string;
  port: number;
  root: string;
  errorLogPath: string;
  workerUser: string | undefined;
}): string {
  const { dir, host, port, root, errorLogPath, workerUser } = spec;
  const listen = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const group = workerUser ? nobodyGroup() : undefined;
  return `# Generated by test/support/nginx.ts for one test run.
daemon off;
master_process on;
worker_processes 1;
${workerUser ? `user ${workerUser} ${group};\n` : ''}pid ${join(dir, 'nginx.pid')};
error_log ${errorLogPath} info;

events {
  worker_connections 64;
}

http {
  access_log ${join(dir, 'access.log')};
  client_body_temp_path ${join(dir, 'client_body_temp')};
  proxy_temp_path ${join(dir, 'proxy_temp')};
  fastcgi_temp_path ${join(dir, 'fastcgi_temp')};
  uwsgi_temp_path ${join(dir, 'uwsgi_temp')};
  scgi_temp_path ${join(dir, 'scgi_temp')};
  default_type application/octet-stream;
  server_tokens off;

  server {
    listen ${listen};
    server_name _;

    # Like a typical site config: the ACME webroot is served as static files, nothing else is.
    location ^~ /.well-known/acme-challenge/ {
      root ${quoteNginx(root)};
      try_files $uri =404;
    }

    location / {
      return 404;
    }
  }
}
`;
}

/** Debian names nobody's group `nogroup`; other distributions call it `nobody`. */
function nobodyGroup(): string {
  try {
    const groups = readFileSync('/etc/group', 'utf8');
    return /^nogroup:/m.test(groups) ? 'nogroup' : 'nobody';
  } catch {
    return 'nogroup';
  }
}

function quoteNginx(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `"${path.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Throws unless `root` exists and it and every ancestor grant execute (traverse) to "others", i.e.
 * unless an unprivileged nginx worker can reach files below it.
 */
async function assertTraversableByOthers(root: string): Promise<void> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`startNginx: webroot ${root} does not exist or is not a directory`);
  for (let current = root; ; current = dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & fsConstants.S_IXOTH) === 0) {
      throw new Error(
        `startNginx: ${current} has mode ${(mode & 0o777).toString(8)}; nginx workers run as "nobody" and ` +
          `cannot traverse it to reach ${root}. Use createWebroot() or chmod 0755 the webroot and its parents.`,
      );
    }
    if (dirname(current) === current) return;
  }
}
