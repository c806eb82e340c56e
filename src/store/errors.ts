/**
 * How every store backend words its failures: "<Title> store <where>: could not <operation>: <detail>", an
 * OperationError (exit 1) with a hint, from which every secret the backend knows (passwords, tokens, secret
 * IDs, JWTs) has been replaced by "***".
 */
import { OperationError } from '../domain/errors.js';

/** The secrets of one store, and the one way text is cleaned of them before it goes into an error. */
export class Secrets {
  readonly #values = new Set<string>();

  /** Remembers `secret` (nothing for undefined or ''); every later scrub() hides it. */
  add(secret: string | undefined): void {
    if (secret !== undefined && secret !== '') this.#values.add(secret);
  }

  /** `text` with every known secret replaced by "***". */
  scrub(text: string): string {
    let scrubbed = text;
    for (const secret of this.#values) scrubbed = scrubbed.split(secret).join('***');
    return scrubbed;
  }
}

export class StoreErrors {
  /** 'etcd', 'consul', 'Vault', 'Redis', 'SQLite', 'memory': how messages name the backend. */
  readonly title: string;
  /** The store's redacted URL or its file path. */
  readonly where: string;
  readonly secrets: Secrets;

  constructor(title: string, where: string, secrets: Secrets = new Secrets()) {
    this.title = title;
    this.where = where;
    this.secrets = secrets;
  }

  /** "<Title> store <where>: could not <operation>: <detail>", scrubbed of secrets, hint included. */
  failure(operation: string, detail: string, options: { hint?: string | undefined; cause?: unknown } = {}): OperationError {
    const { scrub } = this;
    return new OperationError(scrub(`${this.title} store ${this.where}: could not ${operation}: ${detail}`), {
      ...(options.hint !== undefined ? { hint: scrub(options.hint) } : {}),
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
  }

  /** The error for using a store after close(): a programming error, not an OperationError. */
  closed(): Error {
    return new Error(`the ${this.title} store is closed`);
  }

  readonly scrub = (text: string): string => this.secrets.scrub(text);
}

/** The `code` of a Node error (ECONNREFUSED, SQLITE_BUSY, ...), if it has a string one. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A one-line description; Node's multi-address connect errors (AggregateError) have an empty message. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    const inner = error.errors.map((item) => describeError(item));
    return [...new Set(inner)].join(', ') || codeOf(error) || 'connection failed';
  }
  if (error instanceof Error) return error.message || codeOf(error) || error.name;
  return String(error);
}
