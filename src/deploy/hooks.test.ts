import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import {
  deployHookEnv,
  describeHookFailure,
  OUTPUT_TAIL_MAX_BYTES,
  postHookEnv,
  runHook,
  uniqueHookCommands,
  type HookOutcome,
  type HookRequest,
} from './hooks.js';

// Tests run concurrently, so each gets its own directory below one for the file (tempDir() cannot tell
// concurrent tests apart), which is removed after the afterAll below.
const root = tempDir('hooks');
const tempDirs: string[] = [];
async function testDir(): Promise<string> {
  const dir = await mkdtemp(join(root, 'test-'));
  tempDirs.push(dir);
  return dir;
}

/**
 * Hooks in these tests write the pids they start to `<name>.pid` files in their temporary directory
 * (`shell.pid` for the shell, which leads the hook's process group). At the end, whatever of those still runs is
 * killed, so a failing or hanging test leaves nothing behind.
 */
afterAll(async () => {
  for (const dir of tempDirs) {
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.pid'))) {
      const pid = Number(readFileSync(join(dir, file), 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 1) continue;
      if (file === 'shell.pid' && groupHasRunningMembers(pid)) process.kill(-pid, 'SIGKILL');
      else if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    }
  }
});

const SHORT_TIMEOUT_MS = 300;

function hook(command: string, options: Partial<HookRequest> = {}): Promise<HookOutcome> {
  return runHook({ kind: 'deploy', command, env: {}, timeoutMs: 10_000, ...options });
}

/**
 * Whether a process is still running. A zombie counts as stopped: it has exited and only waits to be reaped by
 * its new parent, init, which in some containers and VMs takes a second or two.
 */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  if (!existsSync('/proc/self/stat')) return true;
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== 'Z';
}

/** State letter and process group from /proc/<pid>/stat (Linux); undefined when the process is gone. */
function readProcStat(pid: number): { state: string; processGroup: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so split after the last ")".
  const [state, , processGroup] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: state ?? '', processGroup: Number(processGroup) };
}

/** Processes of a group that have not exited (Linux; elsewhere only whether kill(-group, 0) finds any). */
function groupHasRunningMembers(processGroup: number): boolean {
  if (!existsSync('/proc/self/stat')) {
    try {
      process.kill(-processGroup, 0);
      return true;
    } catch {
      return false;
    }
  }
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .some((entry) => {
      const stat = readProcStat(Number(entry));
      return stat !== undefined && stat.processGroup === processGroup && stat.state !== 'Z';
    });
}

async function eventually(condition: () => boolean, withinMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(20);
  }
  return condition();
}

/** The pid a hook wrote to a file, once it is there. */
async function readPid(path: string): Promise<number> {
  await eventually(() => existsSync(path) && readFileSync(path, 'utf8').endsWith('\n'));
  return Number((await readFile(path, 'utf8')).trim());
}

// A hook that hangs fails its test well before the global 60 s.
describe.concurrent('runHook', { timeout: 15_000 }, () => {
  it('reports success for exit code 0', async ({ expect }) => {
    const outcome = await hook('echo reloaded');
    expect(outcome).toMatchObject({
      kind: 'deploy',
      command: 'echo reloaded',
      ok: true,
      exitCode: 0,
      signal: null,
      timedOut: false,
      aborted: false,
      outputTail: 'reloaded',
    });
  });

  it('says how long the hook ran', async ({ expect }) => {
    const outcome = await hook('sleep 0.3');
    expect(outcome.ok).toBe(true);
    // A lower bound only: the hook cannot have taken less than its own sleep.
    expect(outcome.durationMs).toBeGreaterThanOrEqual(300);
  });

  it('reports a non-zero exit code with the last lines of stdout and stderr', async ({ expect }) => {
    const outcome = await hook(
      'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do echo "early $i"; done; ' +
        'echo "out last"; echo "err: nginx: [emerg] bad config" >&2; exit 3',
    );
    expect(outcome.ok).toBe(false);
    expect(outcome.exitCode).toBe(3);
    expect(outcome.signal).toBeNull();
    expect(outcome.outputTail).toContain('out last');
    expect(outcome.outputTail).toContain('err: nginx: [emerg] bad config');
    expect(outcome.outputTail).not.toContain('early 1\n');
    expect(outcome.outputTail.split('\n')).toHaveLength(20);
    // A long command is shortened in the one-line description.
    expect(describeHookFailure(outcome)).toMatch(/^deploy hook "for i in 1 2 3 .{60,}…" failed with exit code 3$/);
  });

  it('passes the environment: process.env plus the request, the request winning; same cwd; empty stdin', async ({ expect }) => {
    const dir = await testDir();
    const out = join(dir, 'env.txt');
    const env = {
      ...deployHookEnv({
        name: 'www',
        domains: ['example.org', 'www.example.org'],
        paths: {
          dir: '/etc/acmectl/live/www',
          cert: '/etc/acmectl/live/www/cert.pem',
          chain: '/etc/acmectl/live/www/chain.pem',
          fullchain: '/etc/acmectl/live/www/fullchain.pem',
          privkey: '/etc/acmectl/live/www/privkey.pem',
        },
        serial: '04ab',
        notAfter: '2030-01-01T00:00:00.000Z',
      }),
      HOME: '/overridden-home',
      HOOK_OUT: out,
    };
    const outcome = await hook(
      '{ printf "%s\\n" "$ACMECTL_CERT_NAME" "$ACMECTL_DOMAINS" "$ACMECTL_KEY_PATH" "$RENEWED_LINEAGE" ' +
        '"$RENEWED_DOMAINS" "$ACMECTL_NOT_AFTER" "$HOME" "$PATH"; pwd; cat; } > "$HOOK_OUT"',
      { env },
    );
    expect(outcome.ok).toBe(true);
    expect(await readFile(out, 'utf8')).toBe(
      [
        'www',
        'example.org www.example.org',
        '/etc/acmectl/live/www/privkey.pem',
        '/etc/acmectl/live/www',
        'example.org www.example.org',
        '2030-01-01T00:00:00.000Z',
        '/overridden-home',
        process.env.PATH,
        process.cwd(),
        '',
      ].join('\n'),
    );
  });

  it('withholds the named variables of process.env from the hook', async ({ expect }) => {
    const dir = await testDir();
    const out = join(dir, 'env.txt');
    process.env.ACMECTL_TEST_WITHHELD = 'secret-value';
    process.env.ACMECTL_TEST_KEPT = 'kept-value';
    try {
      const outcome = await hook('printf "%s|%s" "${ACMECTL_TEST_WITHHELD-unset}" "$ACMECTL_TEST_KEPT" > "$HOOK_OUT"', {
        env: { HOOK_OUT: out },
        withheldEnv: ['ACMECTL_TEST_WITHHELD', 'NOT_SET_ANYWAY'],
      });
      expect(outcome.ok).toBe(true);
      expect(await readFile(out, 'utf8')).toBe('unset|kept-value');
    } finally {
      delete process.env.ACMECTL_TEST_WITHHELD;
      delete process.env.ACMECTL_TEST_KEPT;
    }
  });

  it('never lets the shell interpret an environment value', async ({ expect }) => {
    const dir = await testDir();
    const out = join(dir, 'value.bin');
    const marker = join(dir, 'pwned');
    const hostile = `a  b 'c' "d" $(touch ${marker}) \`touch ${marker}\` ; touch ${marker} | & * ?\n\nline3 \\ $HOME é 🔒\n`;
    const outcome = await hook('printf "%s" "$ACMECTL_CERT_NAME" > "$HOOK_OUT"', {
      env: { ACMECTL_CERT_NAME: hostile, HOOK_OUT: out },
    });
    expect(outcome.ok).toBe(true);
    expect((await readFile(out)).equals(Buffer.from(hostile, 'utf8'))).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });

  it('reports a command that does not exist as exit code 127 with the shell message', async ({ expect }) => {
    const outcome = await hook('acmectl-no-such-command-7f3a --reload');
    expect(outcome.ok).toBe(false);
    expect(outcome.exitCode).toBe(127);
    expect(outcome.outputTail).toContain('acmectl-no-such-command-7f3a');
    expect(outcome.outputTail).toMatch(/not found/);
  });

  it('keeps only the end of 10 MB of output: the last 20 lines', async ({ expect }) => {
    const outcome = await hook("head -c 10485760 /dev/zero | tr '\\000' x; echo; seq 1 30");
    expect(outcome.ok).toBe(true);
    expect(outcome.outputTail).toBe(Array.from({ length: 20 }, (_, i) => String(i + 11)).join('\n'));
  });

  it('keeps at most 4 KiB of one long line, ending with its last bytes', async ({ expect }) => {
    const outcome = await hook("head -c 1048576 /dev/zero | tr '\\000' x; printf END");
    expect(outcome.ok).toBe(true);
    expect(outcome.outputTail).toHaveLength(OUTPUT_TAIL_MAX_BYTES);
    expect(outcome.outputTail.endsWith('xxxxEND')).toBe(true);
  });

  it('on timeout kills the shell and the processes it started in the background', async ({ expect }) => {
    const dir = await testDir();
    const outcome = await hook('echo $$ > "$DIR/shell.pid"; sleep 1000 & echo $! > "$DIR/sleep.pid"; wait', {
      env: { DIR: dir },
      timeoutMs: SHORT_TIMEOUT_MS,
    });
    expect(outcome).toMatchObject({ ok: false, timedOut: true, aborted: false, exitCode: null, signal: 'SIGTERM' });
    expect(describeHookFailure(outcome)).toBe(`deploy hook ${JSON.stringify(outcome.command)} timed out after 300 ms and was killed`);
    const sleepPid = await readPid(join(dir, 'sleep.pid'));
    const processGroup = await readPid(join(dir, 'shell.pid'));
    expect(await eventually(() => !isRunning(sleepPid))).toBe(true);
    expect(await eventually(() => !groupHasRunningMembers(processGroup))).toBe(true);
  });

  it('sends SIGKILL after the grace period to a group that ignores SIGTERM and holds the pipes open', async ({ expect }) => {
    const dir = await testDir();
    const outcome = await hook(
      `trap '' TERM; echo $$ > "$DIR/shell.pid"; sleep 1000 & echo $! > "$DIR/sleep.pid"; echo waiting; wait`,
      { env: { DIR: dir }, timeoutMs: SHORT_TIMEOUT_MS },
    );
    expect(outcome).toMatchObject({ ok: false, timedOut: true, signal: 'SIGKILL', outputTail: 'waiting' });
    const sleepPid = await readPid(join(dir, 'sleep.pid'));
    const processGroup = await readPid(join(dir, 'shell.pid'));
    expect(await eventually(() => !isRunning(sleepPid))).toBe(true);
    expect(await eventually(() => !groupHasRunningMembers(processGroup))).toBe(true);
  });

  it('on abort kills the hook and a subshell it started', async ({ expect }) => {
    const dir = await testDir();
    const controller = new AbortController();
    const running = hook('echo $$ > "$DIR/shell.pid"; (sleep 1000; echo never) & echo $! > "$DIR/subshell.pid"; wait', {
      env: { DIR: dir },
      signal: controller.signal,
    });
    const subshellPid = await readPid(join(dir, 'subshell.pid'));
    const processGroup = await readPid(join(dir, 'shell.pid'));
    controller.abort();
    const outcome = await running;
    expect(outcome).toMatchObject({ ok: false, timedOut: false, aborted: true });
    expect(describeHookFailure(outcome)).toMatch(/^deploy hook ".*" was cancelled and killed$/);
    expect(await eventually(() => !isRunning(subshellPid))).toBe(true);
    expect(await eventually(() => !groupHasRunningMembers(processGroup))).toBe(true);
  });

  it('does not start a hook when the signal is already aborted', async ({ expect }) => {
    const dir = await testDir();
    const controller = new AbortController();
    controller.abort();
    const outcome = await hook('touch "$DIR/ran"', { env: { DIR: dir }, signal: controller.signal });
    expect(outcome).toMatchObject({ ok: false, aborted: true, exitCode: null, signal: null, timedOut: false });
    expect(describeHookFailure(outcome)).toBe('deploy hook "touch \\"$DIR/ran\\"" was not started because the run was cancelled');
    await sleep(100);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('does not wait for a background process that keeps stdout open after the shell exits, and leaves it running', async ({ expect }) => {
    const dir = await testDir();
    const outcome = await hook('sleep 1000 & echo $! > "$DIR/sleep.pid"; echo started', { env: { DIR: dir } });
    const sleepPid = await readPid(join(dir, 'sleep.pid'));
    try {
      expect(outcome).toMatchObject({ ok: true, exitCode: 0, outputTail: 'started' });
      expect(isRunning(sleepPid)).toBe(true);
    } finally {
      process.kill(sleepPid, 'SIGKILL');
    }
  });

  it('reports a hook that cannot be started instead of rejecting', async ({ expect }) => {
    const outcome = await hook('true', { env: { BROKEN: 'nul\u0000byte' } });
    expect(outcome).toMatchObject({ ok: false, exitCode: null, signal: null, timedOut: false, aborted: false });
    expect(outcome.outputTail).toMatch(/^could not start \/bin\/sh: /);
    expect(describeHookFailure(outcome)).toMatch(/^deploy hook "true" could not be started: could not start \/bin\/sh: /);
  });

  it('rejects a timeout that is not a positive number', async ({ expect }) => {
    await expect(hook('true', { timeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(hook('true', { timeoutMs: Number.NaN })).rejects.toThrow(RangeError);
  });
});

describe('describeHookFailure', () => {
  const base: HookOutcome = {
    kind: 'deploy',
    command: 'systemctl reload nginx',
    ok: false,
    exitCode: 1,
    signal: null,
    timedOut: false,
    aborted: false,
    timeoutMs: 120_000,
    durationMs: 40,
    outputTail: '',
  };

  it('says how the hook ended, on one line', () => {
    expect(describeHookFailure(base)).toBe('deploy hook "systemctl reload nginx" failed with exit code 1');
    expect(describeHookFailure({ ...base, exitCode: null, signal: 'SIGTERM', timedOut: true })).toBe(
      'deploy hook "systemctl reload nginx" timed out after 120 s and was killed',
    );
    expect(describeHookFailure({ ...base, exitCode: null, signal: 'SIGKILL', timedOut: true, timeoutMs: 1500 })).toBe(
      'deploy hook "systemctl reload nginx" timed out after 1.5 s and was killed',
    );
    expect(describeHookFailure({ ...base, kind: 'post', exitCode: null, signal: 'SIGKILL' })).toBe(
      'post hook "systemctl reload nginx" was killed by SIGKILL',
    );
    expect(describeHookFailure({ ...base, kind: 'pre', command: 'systemctl stop nginx\nsleep 1' })).toBe(
      'pre hook "systemctl stop nginx\\nsleep 1" failed with exit code 1',
    );
  });
});

describe('uniqueHookCommands', () => {
  it('keeps distinct non-empty commands, trimmed, in first-seen order', () => {
    expect(
      uniqueHookCommands([
        'systemctl reload nginx',
        null,
        '  systemctl reload nginx ',
        '',
        '   ',
        undefined,
        'systemctl reload postfix',
        'systemctl reload nginx',
      ]),
    ).toEqual(['systemctl reload nginx', 'systemctl reload postfix']);
    expect(uniqueHookCommands([])).toEqual([]);
  });
});

describe('hook environments', () => {
  it('deployHookEnv produces exactly the variables of docs/cli.md#hook-environment', () => {
    expect(
      deployHookEnv({
        name: 'mail',
        domains: ['mail.example.org', 'smtp.example.org'],
        paths: {
          dir: '/srv/certs/mail',
          cert: '/srv/certs/mail/cert.pem',
          chain: '/srv/certs/mail/chain.pem',
          fullchain: '/srv/certs/mail/fullchain.pem',
          privkey: '/srv/certs/mail/privkey.pem',
        },
        serial: '03f1',
        notAfter: '2031-05-01T12:00:00.000Z',
      }),
    ).toStrictEqual({
      ACMECTL_CERT_NAME: 'mail',
      ACMECTL_DOMAINS: 'mail.example.org smtp.example.org',
      ACMECTL_CERT_PATH: '/srv/certs/mail/cert.pem',
      ACMECTL_CHAIN_PATH: '/srv/certs/mail/chain.pem',
      ACMECTL_FULLCHAIN_PATH: '/srv/certs/mail/fullchain.pem',
      ACMECTL_KEY_PATH: '/srv/certs/mail/privkey.pem',
      ACMECTL_SERIAL: '03f1',
      ACMECTL_NOT_AFTER: '2031-05-01T12:00:00.000Z',
      RENEWED_LINEAGE: '/srv/certs/mail',
      RENEWED_DOMAINS: 'mail.example.org smtp.example.org',
    });
  });

  it('postHookEnv lists renewed and failed names, empty strings when none', () => {
    expect(postHookEnv(['www', 'mail'], ['api'])).toStrictEqual({ ACMECTL_RENEWED: 'www mail', ACMECTL_FAILED: 'api' });
    expect(postHookEnv([], [])).toStrictEqual({ ACMECTL_RENEWED: '', ACMECTL_FAILED: '' });
  });
});
