import type { CommanderError } from 'commander';
import { AbortedError, UsageError } from '../domain/errors.js';
import { visibleText } from '../domain/visible-text.js';
import type { Command } from './command.js';
import type { GlobalOptions } from './context.js';
import type { Reporter } from './reporter.js';
import { VERSION } from './version.js';

/** `acmectl --version` on its own, answered before commander and the reporter load (a third of its start-up). */
const VERSION_ONLY = [['--version'], ['-V']];

/**
 * The signals that interrupt a command, with their numbers: interrupted, acmectl exits with 128 + the number,
 * as a shell reports a process a signal ended. SIGHUP arrives when the terminal goes away (an ssh session or
 * the `script`/`expect` around acmectl ends).
 */
const STOP_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

/**
 * After the first signal the command has this long to clean up (challenge files and listeners, hooks' process
 * groups, which get SIGKILL after 2 s, lock leases) before the process exits anyway. A request to the CA in
 * flight is abandoned at once (acme/transport.ts).
 */
const CLEANUP_GRACE_MS = 5_000;

/**
 * Parses argv, runs the command, reports the outcome and returns the exit code (docs/cli.md#exit-codes):
 * 0 success, 1 an operation failed, 2 the input was wrong, 128 + n interrupted by signal n.
 *
 * On SIGINT, SIGTERM or SIGHUP the command's signal is aborted: whatever it waits for stops with an
 * AbortedError that names the signal, and its own cleanup runs. A command that still completes (the work
 * was done, or `serve`, which such a signal stops normally) exits 0; otherwise the exit code is the
 * signal's. A second signal, or a cleanup that outlasts CLEANUP_GRACE_MS, ends the process at once with
 * that code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  if (VERSION_ONLY.some((request) => request.length === argv.length && request.every((arg, i) => arg === argv[i]))) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [{ CommanderError }, { buildProgram }, { Reporter }] = await Promise.all([import('commander'), import('./program.js'), import('./reporter.js')]);
  const controller = new AbortController();
  let interruptedBy: StopSignal | undefined;
  let reporter: Reporter | undefined;
  /** Set once the command's outcome is known; the grace timer may still fire if something keeps the loop alive. */
  let decided: number | undefined;
  const exitNow = (why: string): void => {
    const signal = interruptedBy!;
    if (decided === undefined) {
      try {
        reporter?.error(new AbortedError(`interrupted by ${signal}: ${why}`));
      } catch {
        // Exiting matters more than saying so.
      }
    }
    if (signal === 'SIGHUP') endByHangup();
    process.exit(decided ?? 128 + STOP_SIGNALS[signal]);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interruptedBy !== undefined) return exitNow(`${signal} again, stopping without finishing the cleanup`);
    interruptedBy = signal as StopSignal;
    controller.abort(new AbortedError(`interrupted by ${signal}`));
    // Unref'd: a process that has finished is not kept alive by it.
    setTimeout(() => exitNow(`the cleanup did not finish within ${CLEANUP_GRACE_MS / 1000} s, stopping without it`), CLEANUP_GRACE_MS).unref();
  };
  for (const signal of Object.keys(STOP_SIGNALS)) process.on(signal, onSignal);
  let exitCode = 0;
  // Commander's own messages (unknown option, missing argument, invalid choice) are reported below like every other error.
  const program = buildProgram(async (load, input) => {
    reporter = await Reporter.create(reporterOptions(input.global));
    try {
      const command = (await load()) as Command;
      exitCode = await command({ ...input, reporter, signal: controller.signal });
    } catch (error) {
      exitCode = reporter.error(error);
    } finally {
      reporter.close();
    }
  }, { outputError: () => undefined });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parse error (unknown option, missing argument) is wrong input.
      exitCode = error.exitCode === 0 ? 0 : 2;
      if (exitCode === 2) await reportParseError(error, argv);
    } else {
      exitCode = (reporter ?? (await Reporter.create())).error(error);
    }
  } finally {
    for (const signal of Object.keys(STOP_SIGNALS)) process.off(signal, onSignal);
  }
  if (interruptedBy !== undefined && exitCode !== 0) exitCode = 128 + STOP_SIGNALS[interruptedBy];
  decided = exitCode;
  if (interruptedBy === 'SIGHUP') endByHangup();
  return exitCode;
}

/**
 * A parse error is found before any command runs, so the output options are read from argv here: with --json
 * it is one JSON document on stdout, like every other error. What the user typed is shown with control
 * characters made visible. When a command needs a subcommand, commander has printed the help on stderr already.
 */
async function reportParseError(error: CommanderError, argv: readonly string[]): Promise<void> {
  const { Reporter } = await import('./reporter.js');
  const options = beforeOperands(argv);
  const json = options.includes('--json');
  if (error.code === 'commander.help' && !json) return;
  const reporter = await Reporter.create({ json, quiet: options.includes('-q') || options.includes('--quiet'), color: !options.includes('--no-color') });
  const message = error.code === 'commander.help' ? 'a command is needed' : visibleText(error.message.replace(/^error: /, ''), 500);
  reporter.error(new UsageError(message, { hint: 'run acmectl --help, or acmectl COMMAND --help, for usage' }));
}

/** The arguments before a `--`, after which everything is an operand. */
function beforeOperands(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end === -1 ? argv : argv.slice(0, end);
}

/**
 * After SIGHUP the terminal is gone, and on it Node's own exit path aborts the process (SIGABRT, a core file):
 * it restores the terminal's modes with tcsetattr, which fails with EIO (nodejs/node#51519, fixed only in
 * later releases). So, its cleanup done, acmectl ends the way a process without a SIGHUP handler does:
 * killed by SIGHUP, which a shell reports as 129. Every SIGHUP listener goes first (also signal-exit's, which
 * ora's cursor handling loads; restoring the cursor of a terminal that is gone is moot).
 */
function endByHangup(): void {
  process.removeAllListeners('SIGHUP');
  process.kill(process.pid, 'SIGHUP');
}

function reporterOptions(global: GlobalOptions): Parameters<typeof Reporter.create>[0] {
  return { json: global.json === true, quiet: global.quiet === true, verbose: global.verbose === true, color: global.color !== false };
}

// The only place that sets the process's exit code.
process.exitCode = await main(process.argv.slice(2));
