import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { BIN, cliEnv, runCli } from '../support/cli.js';
import { startRateLimitingProxy } from '../support/rate-limiting-proxy.js';
import type { RateLimitingProxy } from '../support/rate-limiting-proxy.js';
import { tempDir } from '../support/temp-dir.js';

// The certificate is issued through a proxy that records every request reaching Pebble, so that the runs below,
// which use the CA stored with it, can be watched. Pebble's certificates live 5 years: never due by themselves.
let pebble: PebbleHandle;
let ca: RateLimitingProxy;
let home: string;
beforeAll(async () => {
  pebble = await startPebble();
  ca = await startRateLimitingProxy(pebble);
  home = tempDir('renew-wait');
  const issued = await runCli(
    ['issue', 'wait.example.test', '--server', ca.directoryUrl, '--ca-bundle', pebble.caBundlePath, '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'],
    { home },
  );
  if (issued.code !== 0) throw new Error(`setup: issue failed:\n${issued.stderr}`);
});
afterAll(async () => {
  await ca?.stop();
  await pebble?.stop();
});

const serial = async () => (JSON.parse((await runCli(['show', 'wait.example.test', '--json'], { home })).stdout) as { serial: string }).serial;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The CLI started off a terminal (as cron starts it), until stop(). */
interface CronRun {
  /** Its first line on stderr. */
  firstLine: Promise<string>;
  running(): boolean;
  stop(): Promise<void>;
}

function startOffTerminal(args: string[]): CronRun {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { env: cliEnv({ home }), cwd: home, stdio: ['ignore', 'ignore', 'pipe'] });
  const firstLine = new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no line on stderr within 30 s: ${JSON.stringify(text)}`)), 30_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(text.slice(0, text.indexOf('\n')));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before printing a line: ${JSON.stringify(text)}`));
    });
  });
  firstLine.catch(() => undefined); // awaited by the caller; stop() must not leave it unhandled
  return {
    firstLine,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Starts the CLI off a terminal, returns its first line on stderr, and stops it. */
async function firstMessageLine(args: string[]): Promise<string> {
  const run = startOffTerminal(args);
  try {
    return await run.firstLine;
  } finally {
    await run.stop();
  }
}

describe('the random wait of renew', () => {
  it('is said on the first line, with its length and how to skip it, when cron-like runs find work', async () => {
    // Not on a terminal, no name, no --force, and --days makes the certificate due: the cron case.
    const line = await firstMessageLine(['renew', '--days', '3650']);
    expect(line).toMatch(/^waiting \d{1,3} s before contacting the CA, so that servers renewing from cron do not all arrive at once \(--no-random-sleep skips the wait\)$/);
  });

  it('really waits: seconds after saying so, the run still waits and the CA has received nothing', async () => {
    // The wait is random, 0 to 480 s: draw until one is long enough to watch 3 s of it (a wait under 20 s ten
    // times in a row has a chance of about 1 in 10^14).
    for (let attempt = 1; ; attempt++) {
      const sentBefore = ca.requests.length;
      const run = startOffTerminal(['renew', '--days', '3650']);
      try {
        const seconds = Number(/^waiting (\d+) s /.exec(await run.firstLine)?.[1]);
        if (seconds < 20 && attempt < 10) continue;
        expect(seconds).toBeGreaterThanOrEqual(20);
        // It started waiting before it printed the line, and waits at least 19.5 s more (rounding).
        await sleep(3_000);
        expect(run.running(), 'the run ended during its wait').toBe(true);
        expect(ca.requests.slice(sentBefore)).toEqual([]);
        return;
      } finally {
        await run.stop();
      }
    }
  });

  it('does not happen when nothing is due, even with --random-sleep', async () => {
    for (const args of [['renew'], ['renew', '--random-sleep']]) {
      // Off a terminal, no name, no --force: cron's run, which would wait (0-480 s) if anything were due.
      const result = await runCli(args, { home, timeoutMs: 45_000 });
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(/^not due wait\.example\.test: /m);
      expect(result.stdout).toMatch(/0 renewed, 1 not due, 0 failed/);
      expect(result.stderr).not.toMatch(/waiting/);
    }
  });

  it('is skipped when a person names the certificate or forces the renewal', async () => {
    for (const args of [['renew', 'wait.example.test', '--force'], ['renew', '--force'], ['renew', 'wait.example.test', '--days', '3650']]) {
      const before = await serial();
      // A wait of up to 480 s would outlast this timeout: finishing at all shows there was none.
      const result = await runCli(args, { home, timeoutMs: 45_000 });
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
      expect(result.stderr).not.toMatch(/waiting/);
      expect(await serial()).not.toBe(before);
    }
  });

  it('follows ACMECTL_DAYS and ACMECTL_NO_RANDOM_SLEEP from the environment, as cron jobs and systemd units set them', async () => {
    const before = await serial();
    // The cron case (off a terminal, nothing named or forced), made due and without a wait by the environment alone.
    const result = await runCli(['renew'], { home, env: { ACMECTL_DAYS: '3650', ACMECTL_NO_RANDOM_SLEEP: '1' }, timeoutMs: 45_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/waiting/);
    expect(result.stdout).toMatch(/1 renewed/);
    expect(await serial()).not.toBe(before);
  });

  it('refuses a value of the environment it cannot use, naming the variable (exit 2)', async () => {
    const result = await runCli(['renew'], { home, env: { ACMECTL_DAYS: 'abc' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: environment variable ACMECTL_DAYS: expected a whole number from 0 to 3650, got "abc"$/m);
  });

  it('happens with --random-sleep even for a named certificate', async () => {
    const line = await firstMessageLine(['renew', 'wait.example.test', '--force', '--random-sleep']);
    expect(line).toMatch(/^waiting \d{1,3} s before contacting the CA/);
  });
});

describe('renew --dry-run', () => {
  it('simulates the renewal of every certificate, due or not, and changes nothing', async () => {
    const before = await serial();
    // No --no-random-sleep: a dry run is a person testing the setup, it does not wait either.
    const result = await runCli(['renew', '--dry-run'], { home, timeoutMs: 45_000 });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^renewed wait\.example\.test: serial [0-9A-F]+, valid until .* \(dry run\)$/m);
    expect(result.stdout).toMatch(/^dry run: 1 renewed, 0 not due, 0 failed$/m);
    expect(await serial()).toBe(before);
  });
});
