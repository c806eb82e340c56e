/**
 * Typed errors. Every failure that reaches the user travels as an AcmectlError carrying its exit code
 * (docs/cli.md#exit-codes): 2 for wrong input (raised before anything is sent to the CA or written to the store),
 * 1 for an operation that failed. Only src/cli/main.ts turns them into a process exit code.
 */
export type ExitCode = 1 | 2;

export class AcmectlError extends Error {
  readonly exitCode: ExitCode;
  /** What the user can do about it, printed under the message. */
  readonly hint: string | undefined;

  constructor(message: string, exitCode: ExitCode, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** The input was wrong: a bad flag, domain, URL or config value. Exit code 2. */
export class UsageError extends AcmectlError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, 2, options);
  }
}

/** An operation failed: the CA, the store, the network, the file system. Exit code 1. */
export class OperationError extends AcmectlError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, 1, options);
  }
}

/**
 * The operation was cancelled (SIGINT/SIGTERM/SIGHUP or a lost lock lease). Exit code 1; the CLI reports an
 * interruption by a signal with 128 + the signal's number.
 */
export class AbortedError extends OperationError {}

/**
 * The error for work that `signal` stopped, saying why: the message of the signal's reason when that is an
 * AbortedError ("interrupted by SIGTERM", "lost the lock lease …"), else "cancelled"; `context` is appended
 * ("while waiting for …"). A new error each time, since callers prefix messages (a certificate's name).
 */
export function abortedError(signal: AbortSignal | undefined, context?: string): AbortedError {
  const reason: unknown = signal?.reason;
  const why = reason instanceof AbortedError ? reason.message : 'cancelled';
  return new AbortedError(context ? `${why} ${context}` : why);
}
