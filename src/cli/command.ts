import type { GlobalOptions } from './context.js';
import type { Reporter } from './reporter.js';

/** What program.ts hands every command module: parsed arguments, the reporter and the cancellation signal. */
export interface CommandInput<Options = Record<string, unknown>> {
  args: string[];
  options: Options;
  global: GlobalOptions;
  reporter: Reporter;
  signal: AbortSignal;
}

/** A command resolves to its exit code (0 or 1); wrong input is thrown as UsageError (2). */
export type Command<Options = Record<string, unknown>> = (input: CommandInput<Options>) => Promise<number>;
