import type { Ora } from 'ora';
import { AcmeProblemError } from '../acme/problem.js';
import { AcmectlError } from '../domain/errors.js';
import type { ProgressEvent } from '../domain/events.js';

/**
 * All printing lives here (docs/cli.md#output). stdout carries data, stderr carries messages for people.
 * - human: a terminal whose width is known: colours and a spinner per step
 * - plain: not a terminal (cron), or a terminal without a usable size (serial console, `script`, a CI runner,
 *          `docker run -t` before the size arrives): one line per finished step; colours only on a terminal
 * - json:  exactly one JSON document on stdout; messages still go to stderr as plain lines
 * - quiet: errors only
 */
export type ReporterMode = 'human' | 'plain' | 'json' | 'quiet';

export interface ReporterOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

type Paint = (text: string) => string;
interface Palette {
  green: Paint;
  red: Paint;
  yellow: Paint;
  dim: Paint;
  bold: Paint;
}
const plainPalette: Palette = { green: String, red: String, yellow: String, dim: String, bold: String };

export class Reporter {
  readonly mode: ReporterMode;
  readonly verbose: boolean;
  private readonly out: NodeJS.WriteStream;
  private readonly err: NodeJS.WriteStream;
  private palette: Palette = plainPalette;
  private spinner: Ora | undefined;
  private readonly active = new Map<string, string>();
  private jsonWritten = false;

  private constructor(options: ReporterOptions, mode: ReporterMode) {
    this.mode = mode;
    this.verbose = options.verbose === true;
    this.out = options.stdout ?? process.stdout;
    this.err = options.stderr ?? process.stderr;
    for (const stream of new Set([this.out, this.err])) dropWriteErrors(stream);
  }

  static async create(options: ReporterOptions = {}): Promise<Reporter> {
    const stderr = options.stderr ?? process.stderr;
    const env = options.env ?? process.env;
    const spinnerFits = stderr.isTTY === true && !env.CI && isUsableWidth(stderr.columns, MIN_SPINNER_COLUMNS);
    const mode: ReporterMode = options.quiet ? 'quiet' : options.json ? 'json' : spinnerFits ? 'human' : 'plain';
    const reporter = new Reporter(options, mode);
    if (wantsColor(options, stderr, env)) {
      // chalk is loaded only when colours are used; FORCE_COLOR can ask for colours off a terminal.
      const { Chalk } = await import('chalk');
      const chalk = new Chalk({ level: env.FORCE_COLOR === '2' ? 2 : env.FORCE_COLOR === '3' ? 3 : 1 });
      reporter.palette = { green: chalk.green, red: chalk.red, yellow: chalk.yellow, dim: chalk.dim, bold: chalk.bold };
    }
    if (mode === 'human') {
      const { default: ora } = await import('ora');
      reporter.spinner = ora({ stream: sizedStream(stderr), isEnabled: true, discardStdin: false });
    }
    return reporter;
  }

  /** Progress of a long operation: a spinner on a terminal, a line per finished step otherwise. */
  readonly progress = (event: ProgressEvent): void => {
    if (this.mode === 'quiet') return;
    const id = `${event.certificate ?? ''}:${event.step}:${event.id ?? ''}`;
    if (this.spinner) {
      if (event.phase === 'start') {
        this.active.set(id, event.message);
      } else {
        this.active.delete(id);
        const symbol = event.phase === 'done' ? this.palette.green('✔') : this.palette.red('✖');
        this.spinner.stopAndPersist({ symbol, text: event.message });
      }
      if (this.active.size > 0) this.spinner.start([...this.active.values()].join(', '));
      return;
    }
    if (event.phase !== 'start') this.err.write(`${event.phase === 'failed' ? 'failed: ' : ''}${event.message}\n`);
  };

  /** A message for people (stderr), not shown with -q. */
  info(message: string): void {
    if (this.mode === 'quiet') return;
    this.pauseSpinner(() => this.err.write(`${message}\n`));
  }

  warn(message: string): void {
    if (this.mode === 'quiet') return;
    this.pauseSpinner(() => this.err.write(`${this.palette.yellow('warning:')} ${message}\n`));
  }

  /** Verbose detail, shown with -v only. */
  debug(message: string): void {
    if (this.verbose && this.mode !== 'quiet') this.pauseSpinner(() => this.err.write(`${this.palette.dim(message)}\n`));
  }

  /**
   * The command's result. In json mode the document is printed; otherwise the human lines go to stdout
   * (suppressed by -q unless `always`, for data a user asked for such as `list`).
   */
  result(document: unknown, human: () => string[], options: { always?: boolean } = {}): void {
    this.stopSpinner();
    if (this.mode === 'json') {
      this.writeJson(document);
      return;
    }
    if (this.mode === 'quiet' && !options.always) return;
    const lines = human();
    if (lines.length > 0) this.out.write(`${lines.join('\n')}\n`);
  }

  /** Reports a failure; returns the exit code it stands for. */
  error(error: unknown): number {
    this.stopSpinner();
    const exitCode = error instanceof AcmectlError ? error.exitCode : 1;
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof AcmectlError ? error.hint : undefined;
    const details = error instanceof AcmeProblemError ? error.subproblemLines() : [];
    if (this.mode === 'json') {
      const problem = error instanceof AcmeProblemError ? error.problem : undefined;
      this.writeJson({ ok: false, error: { message, exitCode, ...(hint ? { hint } : {}), ...(problem ? { problem } : {}) } });
    }
    const lines = [`${this.palette.red('error:')} ${message}`, ...details.map((line) => `  - ${line}`)];
    if (hint) lines.push(`${this.palette.dim('hint:')} ${hint}`);
    if (this.verbose && error instanceof Error && !(error instanceof AcmectlError) && error.stack) lines.push(this.palette.dim(error.stack));
    if (this.verbose && error instanceof Error && error.cause instanceof Error) lines.push(this.palette.dim(`cause: ${error.cause.message}`));
    this.err.write(`${lines.join('\n')}\n`);
    return exitCode;
  }

  get colors(): Palette {
    return this.palette;
  }

  close(): void {
    this.stopSpinner();
  }

  private writeJson(document: unknown): void {
    if (this.jsonWritten) return; // exactly one document, even when an error follows a result
    this.jsonWritten = true;
    this.out.write(`${JSON.stringify(document, null, 2)}\n`);
  }

  private pauseSpinner(write: () => void): void {
    if (this.spinner?.isSpinning) {
      this.spinner.clear();
      write();
      this.spinner.render();
    } else {
      write();
    }
  }

  private stopSpinner(): void {
    this.active.clear();
    if (this.spinner?.isSpinning) this.spinner.stop();
  }
}

const guardedStreams = new WeakSet<NodeJS.WritableStream>();

/**
 * A terminal that went away (EIO once it hung up) or a pipe whose reader left (EPIPE) must not crash the run
 * with an unhandled 'error' event in the middle of its cleanup (challenge files, hooks, locks): what cannot be
 * printed is dropped.
 */
function dropWriteErrors(stream: NodeJS.WritableStream): void {
  if (guardedStreams.has(stream)) return;
  guardedStreams.add(stream);
  stream.on('error', () => undefined);
}

/** Narrower than this at start, a spinner line would wrap at once: plain lines instead. */
const MIN_SPINNER_COLUMNS = 20;
/** No terminal is wider; a larger value is garbage. */
const MAX_COLUMNS = 10_000;
/** Assumed until the terminal reports a usable width (the spinner starts only with one, so this is a last resort). */
const FALLBACK_COLUMNS = 80;

function isUsableWidth(columns: unknown, min: number): columns is number {
  return typeof columns === 'number' && Number.isInteger(columns) && columns >= min && columns <= MAX_COLUMNS;
}

/**
 * The terminal as ora sees it: the same stream, but `columns` is always a usable positive width and `rows` is
 * a positive number or undefined. ora counts the lines to clear as ceil(width / columns) with `columns ?? 80`;
 * a terminal resized to 0 columns mid-run (SIGWINCH) would make that Infinity and its clear() loop forever
 * writing cursor-up sequences, synchronously, so that not even a signal handler could run. A width that is not
 * usable keeps the last usable one.
 */
function sizedStream(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  let lastColumns = isUsableWidth(stream.columns, 1) ? stream.columns : FALLBACK_COLUMNS;
  const sized = {
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      const columns = stream.columns;
      if (isUsableWidth(columns, 1)) lastColumns = columns;
      return lastColumns;
    },
    get rows() {
      const rows = stream.rows;
      return typeof rows === 'number' && Number.isInteger(rows) && rows > 0 ? rows : undefined;
    },
    // What ora and cli-cursor call on their stream (ora replaces `write` on this object while it spins).
    write: (...args: unknown[]): boolean => (stream.write as (...a: unknown[]) => boolean).apply(stream, args),
    cursorTo: (x: number, y?: number): boolean => stream.cursorTo(x, y),
    moveCursor: (dx: number, dy: number): boolean => stream.moveCursor(dx, dy),
    clearLine: (direction: -1 | 0 | 1): boolean => stream.clearLine(direction),
    once: (event: string, listener: (...args: unknown[]) => void) => (stream.once(event, listener), sized),
    removeListener: (event: string, listener: (...args: unknown[]) => void) => (stream.removeListener(event, listener), sized),
  };
  return sized as unknown as NodeJS.WriteStream;
}

function wantsColor(options: ReporterOptions, stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  if (options.color === false || ('NO_COLOR' in env && env.NO_COLOR !== '')) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}
