/**
 * How every store backend words its failures: "<Title> store <where>: could not <operation>: <detail>", an
 * OperationError (exit 1) with a hint, from which every secret the backend knows (passwords, tokens, secret
 * IDs, JWTs) has been replaced by "***".
 */
import { OperationError } from '../domain/errors.js';
import { Secrets } from '../net/error-text.js';

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
