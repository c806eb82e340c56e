/**
 * The text of a failure below HTTP or in a backend: Node's error code, a one-line description, and the secrets
 * (passwords, tokens) that must never appear in it.
 */

/** The secrets of one server (a store's passwords, tokens), and the one way text is cleaned of them for an error. */
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
