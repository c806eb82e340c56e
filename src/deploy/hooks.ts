/**
 * Running the user's hook commands (docs/cli.md#hooks): `pre-hook`, `post-hook` and `deploy-hook`, typically
 * `systemctl reload nginx`.
 *
 * A hook runs as `/bin/sh -c <command>` in its own process group (the child calls setsid(), so it also has no
 * controlling terminal and cannot prompt). Certificate data reaches it only through the environment, never by
 * pasting it into the command line, so a name or path can never be interpreted by the shell.
 *
 * Killing: on timeout or cancellation the whole group gets SIGTERM, then SIGKILL after {@link KILL_GRACE_MS}
 * if anything in it is still there, so `sleep 1000 & wait` or `(sleep 1000)` cannot survive. A process that
 * leaves the group on purpose (setsid, a double-forking daemon) is beyond our reach by design: that is how a
 * hook starts a long-running service.
 *
 * Limits: the hook's group is killed only on timeout or abort. If acmectl itself dies without running its abort
 * path (SIGKILL, a crash), a hook that is still running keeps running; because the hook is in its own process
 * group, a Ctrl-C on the terminal does not reach it either, so the CLI must turn SIGINT/SIGTERM into an abort of
 * the signal it passes here. POSIX only (`/bin/sh`, process groups).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { describeError } from './atomic-file.js';
import type { ExportedPaths } from './pem-export.js';

export type HookKind = 'pre' | 'post' | 'deploy' | 'failure';

/** The hook commands of a certificate or a run, by kind (null: none). */
export type HookCommands = Record<HookKind, string | null>;

export interface HookRequest {
  kind: HookKind;
  /** Run as `/bin/sh -c <command>`, in acmectl's current directory, with stdin connected to /dev/null. */
  command: string;
  /** Added to (and overriding) `process.env` for the hook. */
  env: Record<string, string>;
  /** Variables of `process.env` the hook does not inherit: acmectl's secrets (the CLI names them). */
  withheldEnv?: readonly string[];
  /** After this long the hook's process group is killed. Callers use {@link DEFAULT_HOOK_TIMEOUT_MS}. */
  timeoutMs: number;
  /** Aborting it (SIGINT to acmectl) kills the hook's process group like a timeout does. */
  signal?: AbortSignal;
}

export interface HookOutcome {
  kind: HookKind;
  command: string;
  /** Exit code 0, and neither timed out nor cancelled. */
  ok: boolean;
  /** Null when the shell was killed by a signal or never started. */
  exitCode: number | null;
  /** The signal that ended the shell, if any. */
  signal: NodeJS.Signals | null;
  /** The hook ran longer than `timeoutMs` and its process group was killed. */
  timedOut: boolean;
  /** The request's signal was aborted: the hook was killed, or not started when it was aborted already. */
  aborted: boolean;
  /** The request's timeout, for the failure message. */
  timeoutMs: number;
  durationMs: number;
  /**
   * The end of stdout and stderr, interleaved in arrival order: at most {@link OUTPUT_TAIL_MAX_LINES} lines and
   * {@link OUTPUT_TAIL_MAX_BYTES} bytes, without the final newline. When the hook could not be started, the reason.
   */
  outputTail: string;
}

export const DEFAULT_HOOK_TIMEOUT_MS = 120_000;
export const OUTPUT_TAIL_MAX_LINES = 20;
export const OUTPUT_TAIL_MAX_BYTES = 4096;
/** How long the group has to exit after SIGTERM before it gets SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/**
 * After the shell exited on its own: how long we keep reading output from processes it left running in the
 * background before we stop listening. They are left alone (they may be a service the hook started) but should
 * redirect their output; once we stop reading, their writes fail with EPIPE/SIGPIPE.
 */
const PIPE_DRAIN_AFTER_EXIT_MS = 1_000;
/** After a kill, only processes that escaped the group can still hold the pipes: we barely wait for them. */
const PIPE_DRAIN_AFTER_KILL_MS = 100;
const GROUP_POLL_INTERVAL_MS = 50;
/** setTimeout fires at once for larger delays; a longer timeout means no timeout. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

function inheritedEnv(withheld: readonly string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of withheld) delete env[name];
  return env;
}

/**
 * Run one hook and report how it ended.
 *
 * Never rejects because of the hook: a non-zero exit, a signal, a timeout, a cancellation, or a shell that cannot
 * be started (`exitCode: null`, the reason in `outputTail`) all resolve with `ok: false`. Rejects only with a
 * RangeError for a `timeoutMs` that is not a positive number (a caller's bug); `Infinity` means no timeout.
 *
 * Resolves after the shell has exited and its output pipes are closed, or, when processes it left behind keep
 * them open, after a short bound. After a timeout or abort it resolves once the process group is empty or has
 * been sent SIGKILL. With an already aborted signal nothing is started.
 */
export function runHook(request: HookRequest): Promise<HookOutcome> {
  const { kind, command, timeoutMs, signal } = request;
  if (!(timeoutMs > 0)) {
    return Promise.reject(new RangeError(`hook timeout must be a positive number of milliseconds, got ${timeoutMs}`));
  }
  const startedAt = performance.now();
  const notStarted = (outputTail: string, aborted: boolean): HookOutcome => ({
    kind,
    command,
    ok: false,
    exitCode: null,
    signal: null,
    timedOut: false,
    aborted,
    timeoutMs,
    durationMs: Math.round(performance.now() - startedAt),
    outputTail,
  });
  if (signal?.aborted) return Promise.resolve(notStarted('', true));

  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', command], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...inheritedEnv(request.withheldEnv ?? []), ...request.env },
    });
  } catch (error) {
    // Synchronous failures: e.g. a NUL byte in the command or in an environment value.
    return Promise.resolve(notStarted(`could not start /bin/sh: ${describeError(error)}`, false));
  }

  return new Promise<HookOutcome>((resolve) => {
    const output = new OutputTail();
    const pipes = [child.stdout, child.stderr].filter((pipe): pipe is Readable => pipe !== null);
    let openPipes = pipes.length;
    let exited = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let killReason: 'timeout' | 'abort' | undefined;
    /** After a kill: the group is empty or has been sent SIGKILL, so nothing we can reach is left. */
    let groupSettled = false;
    let finished = false;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let groupPoll: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      clearInterval(groupPoll);
      clearTimeout(drainTimer);
      signal?.removeEventListener('abort', onAbort);
      for (const pipe of pipes) pipe.destroy();
      resolve({
        kind,
        command,
        ok: killReason === undefined && exitCode === 0 && exitSignal === null,
        exitCode,
        signal: exitSignal,
        timedOut: killReason === 'timeout',
        aborted: killReason === 'abort',
        timeoutMs,
        durationMs: Math.round(performance.now() - startedAt),
        outputTail: output.text(),
      });
    };

    const finishWhenDone = (): void => {
      if (finished || !exited) return;
      if (killReason !== undefined && !groupSettled) return;
      if (openPipes === 0) return finish();
      drainTimer ??= setTimeout(finish, killReason === undefined ? PIPE_DRAIN_AFTER_EXIT_MS : PIPE_DRAIN_AFTER_KILL_MS);
    };

    const settleGroup = (): void => {
      groupSettled = true;
      clearTimeout(graceTimer);
      clearInterval(groupPoll);
      finishWhenDone();
    };

    const killGroup = (reason: 'timeout' | 'abort', pid: number): void => {
      if (exited || killReason !== undefined) return;
      killReason = reason;
      signalGroup(pid, 'SIGTERM');
      // A group id is not reused while the group has members, and we stop at the first ESRCH.
      groupPoll = setInterval(() => {
        if (!groupExists(pid)) settleGroup();
      }, GROUP_POLL_INTERVAL_MS);
      graceTimer = setTimeout(() => {
        signalGroup(pid, 'SIGKILL');
        settleGroup();
      }, KILL_GRACE_MS);
    };

    function onAbort(): void {
      // Once the shell has exited, what is left is what it deliberately put in the background: stop waiting.
      if (exited) return finish();
      if (child.pid !== undefined) killGroup('abort', child.pid);
    }

    for (const pipe of pipes) {
      pipe.on('data', (chunk: Buffer) => output.append(chunk));
      // A read error on a pipe ends it like a close does; 'close' follows.
      pipe.on('error', () => undefined);
      pipe.on('close', () => {
        openPipes -= 1;
        finishWhenDone();
      });
    }

    child.on('error', (error) => {
      // Only a failed spawn leaves pid undefined; other errors (a failed kill) do not end the hook.
      if (child.pid !== undefined || finished) return;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      for (const pipe of pipes) pipe.destroy();
      resolve(notStarted(`could not start /bin/sh: ${describeError(error)}`, false));
    });

    child.on('exit', (code, exitedBy) => {
      exited = true;
      exitCode = code;
      exitSignal = exitedBy;
      clearTimeout(timeoutTimer);
      finishWhenDone();
    });

    const pid = child.pid;
    if (pid === undefined) return; // the spawn failed; 'error' follows
    signal?.addEventListener('abort', onAbort, { once: true });
    if (Number.isFinite(timeoutMs) && timeoutMs <= MAX_TIMER_DELAY_MS) {
      timeoutTimer = setTimeout(() => killGroup('timeout', pid), timeoutMs);
    }
  });
}

/**
 * One line saying how a hook failed, for the error report (its output tail goes below it):
 * `deploy hook "systemctl reload nginx" failed with exit code 1`, `... timed out after 120 s and was killed`,
 * `... was killed by SIGKILL`, `... was cancelled and killed`, `... could not be started: <reason>`.
 */
export function describeHookFailure(outcome: HookOutcome): string {
  const subject = `${outcome.kind} hook ${quoteCommand(outcome.command)}`;
  if (outcome.timedOut) return `${subject} timed out after ${formatDuration(outcome.timeoutMs)} and was killed`;
  if (outcome.aborted) {
    return outcome.exitCode === null && outcome.signal === null
      ? `${subject} was not started because the run was cancelled`
      : `${subject} was cancelled and killed`;
  }
  if (outcome.signal !== null) return `${subject} was killed by ${outcome.signal}`;
  if (outcome.exitCode === null) return `${subject} could not be started: ${firstLine(outcome.outputTail)}`;
  if (outcome.exitCode !== 0) return `${subject} failed with exit code ${outcome.exitCode}`;
  return `${subject} succeeded`;
}

/** The input of {@link deployHookEnv}: one certificate that was just issued or renewed and exported. */
export interface DeployHookCertificate {
  name: string;
  domains: string[];
  paths: ExportedPaths;
  serial: string;
  /** As the caller formats it (ISO 8601). */
  notAfter: string;
}

/**
 * The environment of a deploy hook, exactly the variables of docs/cli.md#hook-environment; `RENEWED_LINEAGE` and `RENEWED_DOMAINS` let
 * certbot deploy scripts run unchanged.
 */
export function deployHookEnv(certificate: DeployHookCertificate): Record<string, string> {
  const domains = certificate.domains.join(' ');
  return {
    ACMECTL_CERT_NAME: certificate.name,
    ACMECTL_DOMAINS: domains,
    ACMECTL_CERT_PATH: certificate.paths.cert,
    ACMECTL_CHAIN_PATH: certificate.paths.chain,
    ACMECTL_FULLCHAIN_PATH: certificate.paths.fullchain,
    ACMECTL_KEY_PATH: certificate.paths.privkey,
    ACMECTL_SERIAL: certificate.serial,
    ACMECTL_NOT_AFTER: certificate.notAfter,
    RENEWED_LINEAGE: certificate.paths.dir,
    RENEWED_DOMAINS: domains,
  };
}

/**
 * The environment of a failure hook: the names of the certificates that failed, space separated, and one line
 * "name: reason" per failure (a failed hook is named by its kind and command).
 */
export function failureHookEnv(failures: readonly { name: string; reason: string }[]): Record<string, string> {
  return {
    ACMECTL_FAILED: [...new Set(failures.map((f) => f.name))].join(' '),
    ACMECTL_FAILURES: failures.map((f) => `${f.name}: ${f.reason.replace(/\s+/g, ' ')}`).join('\n'),
  };
}

/** The environment of a post hook: the certificate names renewed and failed in this run, space separated. */
export function postHookEnv(renewed: string[], failed: string[]): Record<string, string> {
  return { ACMECTL_RENEWED: renewed.join(' '), ACMECTL_FAILED: failed.join(' ') };
}

/**
 * The distinct hook commands to run, trimmed, in first-seen order, without empty or missing ones: within one
 * run a command shared by many certificates runs once (docs/cli.md#hooks).
 */
export function uniqueHookCommands(commands: ReadonlyArray<string | null | undefined>): string[] {
  const unique = new Set<string>();
  for (const command of commands) {
    const trimmed = command?.trim();
    if (trimmed) unique.add(trimmed);
  }
  return [...unique];
}

/**
 * The last bytes of a stream of output, in bounded memory however much is appended: never more than
 * {@link OUTPUT_TAIL_MAX_BYTES} bytes are kept.
 */
class OutputTail {
  private chunks: Buffer[] = [];
  private keptBytes = 0;
  private dropped = false;

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.keptBytes += chunk.length;
    while (this.keptBytes > OUTPUT_TAIL_MAX_BYTES) {
      const first = this.chunks[0]!;
      const excess = this.keptBytes - OUTPUT_TAIL_MAX_BYTES;
      this.dropped = true;
      if (first.length <= excess) {
        this.chunks.shift();
        this.keptBytes -= first.length;
      } else {
        // Copy, so the large buffer the slice came from can be collected.
        this.chunks[0] = Buffer.from(first.subarray(excess));
        this.keptBytes -= excess;
      }
    }
  }

  /** The kept output as text: whole lines only after a cut, at most OUTPUT_TAIL_MAX_LINES, no final newline. */
  text(): string {
    let text = Buffer.concat(this.chunks).toString('utf8');
    const firstNewline = text.indexOf('\n');
    if (this.dropped && firstNewline !== -1 && firstNewline < text.length - 1) text = text.slice(firstNewline + 1);
    if (text.endsWith('\n')) text = text.slice(0, -1);
    return text.split('\n').slice(-OUTPUT_TAIL_MAX_LINES).join('\n');
  }
}

/** Send a signal to every process of a group; a group that is already gone is fine. */
function signalGroup(groupId: number, signalName: NodeJS.Signals): void {
  try {
    process.kill(-groupId, signalName);
  } catch {
    // ESRCH: nothing left. EPERM: only processes we may not signal are left (a setuid program such as sudo);
    // there is nothing more we can do about those.
  }
}

/** Whether any process is in the group; zombies count until their parent (or init) reaps them. */
function groupExists(groupId: number): boolean {
  try {
    process.kill(-groupId, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const MAX_QUOTED_COMMAND_LENGTH = 100;

/** The command in double quotes on one line (newlines escaped), shortened when it is a long script. */
function quoteCommand(command: string): string {
  const shortened =
    command.length > MAX_QUOTED_COMMAND_LENGTH ? `${command.slice(0, MAX_QUOTED_COMMAND_LENGTH - 1)}…` : command;
  return JSON.stringify(shortened);
}

/** 120000 → "120 s", 1500 → "1.5 s", 300 → "300 ms". */
function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${milliseconds} ms`;
  const seconds = milliseconds / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
