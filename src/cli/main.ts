import { CommanderError } from 'commander';
import type { Command } from './command.js';
import type { GlobalOptions } from './context.js';
import { buildProgram } from './program.js';
import { Reporter } from './reporter.js';

/**
 * Parses argv, runs the command, reports the outcome and returns the exit code (SPEC §4):
 * 0 success, 1 an operation failed, 2 the input was wrong.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let exitCode = 0;
  let reporter: Reporter | undefined;
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
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parse error (unknown option, missing argument) is wrong input.
      exitCode = error.exitCode === 0 ? 0 : 2;
    } else {
      exitCode = (reporter ?? (await Reporter.create())).error(error);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return exitCode;
}

function reporterOptions(global: GlobalOptions): Parameters<typeof Reporter.create>[0] {
  return { json: global.json === true, quiet: global.quiet === true, verbose: global.verbose === true, color: global.color !== false };
}

// The only place that sets the process's exit code.
process.exitCode = await main(process.argv.slice(2));
