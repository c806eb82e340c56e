// acmectl on a terminal that reports no size (0 columns, 0 rows): serial consoles, CI runners, `script`,
// `expect`, `docker run -t` before the size arrives. The built CLI runs under a real pseudo-terminal made by
// util-linux `script`, with `stty cols 0 rows 0` set on it first.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pebbleArgs, runCli } from '../support/cli.js';
import { withPebble } from '../support/pebble.js';

const BIN = fileURLToPath(new URL('../../bin/acmectl.js', import.meta.url));
/** More output than this means the spinner is looping (the old bug wrote 200+ MB): the run is killed. */
const OUTPUT_CAP = 64 * 1024;
/** Failure guards only, never assertions about speed. */
const RUN_DEADLINE_MS = 90_000;
const STOP_DEADLINE_MS = 30_000;

interface TerminalRun {
  /** `script`'s pid: the leader of its own process group. */
  scriptPid: number;
  /** Everything written to the terminal so far (acmectl's stdout and stderr), at most OUTPUT_CAP bytes. */
  output(): string;
  overflowed(): boolean;
  /** acmectl's pid, once the shell inside the terminal has printed it. */
  acmectlPid(): Promise<number>;
  /** Resolves with script's exit code, which is acmectl's (`script -e`), or null when it was killed. */
  exited: Promise<number | null>;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch {
      // best effort: the next cleanup must run too
    }
  }
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/** Alive and not a zombie (pid 1 here may never reap what it inherits). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

async function waitFor<T>(what: string, check: () => T | undefined | false, run: TerminalRun | undefined, deadlineMs: number): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${run ? `; terminal output:\n${run.output()}` : ''}`);
    if (run?.overflowed()) throw new Error(`unbounded output while waiting for ${what} (more than ${OUTPUT_CAP} bytes)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The parent for runs whose end must be observed although the terminal, and `script` with it, is gone: it
 * starts acmectl, passes on the SIGHUP that a hangup sends to it (the session leader) as a shell does when the
 * terminal closes, and writes how acmectl ended: "signal N" or "exit N".
 */
const WAITING_PARENT = `
import os, signal, sys
status_file, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(argv[0], argv)
signal.signal(signal.SIGHUP, lambda *_: os.kill(pid, signal.SIGHUP))
print(f"acmectl pid {pid} session {os.getpid()}", flush=True)
_, status = os.waitpid(pid, 0)
with open(status_file, "w") as f:
    f.write(f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}")
`;

/**
 * Runs the built acmectl in a new pseudo-terminal of 0 × 0 (TERM=xterm, colours allowed). The shell prints its
 * pid, which acmectl keeps (exec), so acmectl leads the terminal's session; with `statusFile` it runs under
 * WAITING_PARENT instead. Past OUTPUT_CAP bytes everything is killed. afterEach kills what is left: script's
 * process group and the one inside the terminal (acmectl's, which script's does not include).
 */
function runInSizelessTerminal(args: string[], home: string, options: { statusFile?: string } = {}): TerminalRun {
  const acmectl = [process.execPath, BIN, ...args];
  const start = options.statusFile
    ? `exec python3 -c ${shellQuote(WAITING_PARENT)} ${[options.statusFile, ...acmectl].map(shellQuote).join(' ')}`
    : `echo "acmectl pid $$ session $$" && exec ${acmectl.map(shellQuote).join(' ')}`;
  const command = `stty cols 0 rows 0 && ${start}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: home, ACMECTL_HOME: home, TERM: 'xterm' },
  });
  const chunks: Buffer[] = [];
  let bytes = 0;
  let overflowed = false;
  let pid: number | undefined;
  const output = (): string => Buffer.concat(chunks).toString('utf8');
  const killEverything = (): void => {
    killGroup(child.pid);
    const session = /acmectl pid \d+ session (\d+)/.exec(output())?.[1];
    if (session !== undefined) killGroup(Number(session));
  };
  cleanups.push(killEverything);
  const capture = (chunk: Buffer): void => {
    if (bytes < OUTPUT_CAP) chunks.push(chunk.subarray(0, OUTPUT_CAP - bytes));
    bytes += chunk.length;
    if (bytes > OUTPUT_CAP && !overflowed) {
      overflowed = true;
      killEverything();
    }
  };
  child.stdout.on('data', capture);
  child.stderr.on('data', capture);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const run: TerminalRun = {
    scriptPid: child.pid!,
    output,
    overflowed: () => overflowed,
    acmectlPid: async () => {
      pid ??= await waitFor('acmectl to start', () => Number(/acmectl pid (\d+) session/.exec(output())?.[1]) || undefined, run, STOP_DEADLINE_MS);
      return pid;
    },
    exited,
  };
  return run;
}

/** script's exit code, or a failure naming what went wrong: unbounded output or no end before the deadline. */
async function exitOf(run: TerminalRun, deadlineMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs)));
  const outcome = await Promise.race([run.exited, deadline]);
  clearTimeout(timer);
  if (run.overflowed()) throw new Error(`unbounded output: more than ${OUTPUT_CAP} bytes; it began:\n${run.output().slice(0, 2000)}`);
  if (outcome === 'deadline') throw new Error(`acmectl did not finish within ${deadlineMs / 1000} s; terminal output:\n${run.output()}`);
  return outcome;
}

/** Terminal output without colours (they stay on: TERM=xterm) and without the pty's carriage returns. */
const text = (run: TerminalRun): string => run.output().replace(/\u001b\[[0-9;]*m/g, '').replace(/\r\n/g, '\n');

describe('on a terminal without a size (0 columns, 0 rows)', () => {
  const pebble = withPebble();
  let home: string;
  const name = 'tty.example.test';
  const standalone = () => ['--http-port', String(pebble().httpPort), '--http-address', '127.0.0.1'];

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'acmectl-tty-'));
    // The certificate the renew tests interrupt; issued off a terminal.
    const issued = await runCli(['issue', name, ...pebbleArgs(pebble()), ...standalone(), '--agree-tos'], { home });
    expect(issued.code, issued.stderr).toBe(0);
  });
  afterAll(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('issue prints plain lines, stays bounded and finishes with a certificate', async () => {
    const ownHome = tempDir('acmectl-tty-issue-');
    const run = runInSizelessTerminal(['issue', 'plain.example.test', ...pebbleArgs(pebble()), ...standalone(), '--agree-tos'], ownHome);
    expect(await exitOf(run, RUN_DEADLINE_MS), text(run)).toBe(0);
    expect(text(run)).toMatch(/^plain\.example\.test validated$/m);
    expect(text(run)).toMatch(/certificate plain\.example\.test issued: serial [0-9A-F]+/);
    expect(run.output()).toMatch(/\u001b\[32m✔\u001b\[39m certificate/); // colours are kept
    // No spinner: no cursor movement, no line clearing, the cursor never hidden.
    expect(run.output()).not.toMatch(/\u001b\[\d*[AGK]|\u001b\[\?25l/);
    expect(existsSync(join(ownHome, 'live', 'plain.example.test', 'fullchain.pem'))).toBe(true);
  });

  /**
   * `renew --force` whose pre-hook records its pid and then waits: acmectl is busy until it is interrupted. With
   * `ignoreSignals` the hook ignores SIGTERM, so acmectl's cleanup waits for it until it kills it (2 s).
   */
  async function renewBusyInHook(options: { statusFile?: string; ignoreSignals?: boolean } = {}): Promise<{ run: TerminalRun; acmectl: number; hook: number }> {
    const dir = tempDir('acmectl-tty-hook-');
    const pidFile = join(dir, 'hook.pid');
    const hook = `${options.ignoreSignals ? "trap '' TERM INT HUP; " : ''}echo $$ > ${shellQuote(pidFile)}; exec sleep 600`;
    const run = runInSizelessTerminal(['renew', name, '--force', '--no-random-sleep', '--pre-hook', hook, '--ca-bundle', pebble().caBundlePath], home, options);
    const acmectl = await run.acmectlPid();
    const hookPid = await waitFor('the pre-hook to start', () => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8')), run, STOP_DEADLINE_MS);
    cleanups.push(() => killGroup(hookPid));
    return { run, acmectl, hook: hookPid };
  }

  const serialOf = async (): Promise<string> => JSON.parse((await runCli(['show', name, '--json'], { home })).stdout).serial as string;
  /** Lock leases left in the SQLite store: a run that cleaned up released its own. */
  const locksLeft = (): string[] => {
    const db = new Database(join(home, 'acmectl.db'), { fileMustExist: true });
    try {
      return db.prepare('SELECT name FROM locks').pluck().all() as string[];
    } finally {
      db.close();
    }
  };

  it('SIGTERM to acmectl while a hook runs: the hook is killed, nothing is stored, the lock is released, exit 143', async () => {
    const serial = await serialOf();
    const { run, acmectl, hook } = await renewBusyInHook();
    process.kill(acmectl, 'SIGTERM');
    expect(await exitOf(run, STOP_DEADLINE_MS), text(run)).toBe(143);
    // The pre-hook was cut short: no order is started after it.
    expect(text(run)).toMatch(/^error: tty\.example\.test: interrupted by SIGTERM before ordering$/m);
    expect(text(run)).not.toMatch(/order created/);
    expect(isRunning(acmectl)).toBe(false);
    await waitFor('the hook to be gone', () => !isRunning(hook), undefined, STOP_DEADLINE_MS);
    expect(await serialOf()).toBe(serial);
    expect(locksLeft()).toEqual([]);
  });

  it('SIGINT to acmectl during the random sleep: exit 130', async () => {
    // -v announces the wait (0-480 s). A short one could end before the signal and the run succeed, so such
    // a run is killed and another started (about one run in 16 waits less than 30 s).
    for (let attempt = 1; ; attempt++) {
      const run = runInSizelessTerminal(['renew', name, '--force', '--random-sleep', '-v', '--ca-bundle', pebble().caBundlePath], home);
      const acmectl = await run.acmectlPid();
      const announced = () => /(\d+) s\b/.exec(text(run).split(/acmectl pid \d+ session \d+/)[1] ?? '')?.[1];
      const seconds = Number(await waitFor('the random sleep to be announced', announced, run, STOP_DEADLINE_MS));
      if (seconds < 30 && attempt < 5) {
        killGroup(acmectl);
        await exitOf(run, STOP_DEADLINE_MS);
        continue;
      }
      process.kill(acmectl, 'SIGINT');
      expect(await exitOf(run, STOP_DEADLINE_MS), text(run)).toBe(130);
      expect(text(run)).toMatch(/^error: .*tty\.example\.test: interrupted by SIGINT/m);
      expect(isRunning(acmectl)).toBe(false);
      return;
    }
  });

  it.each([
    ['SIGTERM', 'script passes it on'],
    ['SIGKILL', 'the terminal hangs up: SIGHUP'],
  ] as const)('%s to the parent script (%s): acmectl and its hook end too', async (signal, _how) => {
    const { run, acmectl, hook } = await renewBusyInHook();
    process.kill(run.scriptPid, signal);
    await exitOf(run, STOP_DEADLINE_MS);
    await waitFor('acmectl to end', () => !isRunning(acmectl), undefined, STOP_DEADLINE_MS);
    await waitFor('the hook to be gone', () => !isRunning(hook), undefined, STOP_DEADLINE_MS);
  });

  it('when the terminal hangs up, acmectl cleans up and ends by SIGHUP, not by a crash on the dead terminal', async () => {
    const statusFile = join(tempDir('acmectl-tty-status-'), 'status');
    const { run, hook } = await renewBusyInHook({ statusFile });
    process.kill(run.scriptPid, 'SIGKILL');
    await exitOf(run, STOP_DEADLINE_MS);
    const status = await waitFor('acmectl to end', () => existsSync(statusFile) && readFileSync(statusFile, 'utf8'), undefined, STOP_DEADLINE_MS);
    // Killed by SIGHUP (a shell reports 129), or exit 129; Node 20 aborts (signal 6) when it exits normally here.
    expect(['signal 1', 'exit 129']).toContain(status);
    await waitFor('the hook to be gone', () => !isRunning(hook), undefined, STOP_DEADLINE_MS);
    expect(locksLeft()).toEqual([]);
  });

  /** A "CA" that accepts connections and never says a word: acmectl's first request hangs (--request-timeout 30 s). */
  async function silentCa(): Promise<{ url: string; connected: () => boolean }> {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    const { port } = server.address() as { port: number };
    return { url: `https://127.0.0.1:${port}/directory`, connected: () => sockets.size > 0 };
  }

  it('a request to the CA that does not end: SIGTERM abandons it at once, exit 143, without waiting for the grace period', async () => {
    const ca = await silentCa();
    const run = runInSizelessTerminal(['issue', 'silent.example.test', '--server', ca.url, '--agree-tos'], tempDir('acmectl-tty-silent-'));
    const acmectl = await run.acmectlPid();
    await waitFor('acmectl to contact the CA', ca.connected, run, STOP_DEADLINE_MS);
    process.kill(acmectl, 'SIGTERM');
    expect(await exitOf(run, STOP_DEADLINE_MS), text(run)).toBe(143);
    expect(text(run)).toMatch(/^error: interrupted by SIGTERM while waiting for https:\/\/127\.0\.0\.1:\d+\/directory$/m);
    expect(text(run)).not.toMatch(/the cleanup did not finish/);
    expect(isRunning(acmectl)).toBe(false);
  });

  it('a second signal ends acmectl at once, with the first signal\'s code', async () => {
    // The cleanup after the first signal waits for a hook that ignores it (up to 2 s, then SIGKILL).
    const { run, acmectl, hook } = await renewBusyInHook({ ignoreSignals: true });
    process.kill(acmectl, 'SIGINT');
    // Apart, so that the kernel does not merge them into one pending signal.
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(acmectl, 'SIGINT');
    expect(await exitOf(run, STOP_DEADLINE_MS), text(run)).toBe(130);
    expect(text(run)).toMatch(/^error: interrupted by SIGINT: SIGINT again, stopping without finishing the cleanup/m);
    expect(isRunning(acmectl)).toBe(false);
    killGroup(hook);
  });
});
