/**
 * Anti-replay nonces of one CA (RFC 8555 §6.5): every answer carries a fresh one in Replay-Nonce, and each signed
 * request spends one. Keeping the nonces of answers saves a HEAD newNonce round trip before almost every request.
 */

/** More than the requests a run has in flight at once; older nonces are the likelier to have expired at the CA. */
const MOST_KEPT = 32;
/** RFC 8555 §6.5.1: a nonce is base64url; anything else is not put into a protected header. */
const NONCE = /^[A-Za-z0-9_-]+$/;

export class NoncePool {
  readonly #nonces: string[] = [];

  /** Keeps the nonce of an answer's Replay-Nonce header (nothing when it is missing or not a nonce). */
  keep(replayNonce: unknown): void {
    if (!isNonce(replayNonce)) return;
    this.#nonces.push(replayNonce);
    if (this.#nonces.length > MOST_KEPT) this.#nonces.shift();
  }

  /** A nonce not used before: the newest kept one, or, when none is left, one `fetch` gets from the CA's newNonce. */
  async take(fetch: () => Promise<string>): Promise<string> {
    return this.#nonces.pop() ?? fetch();
  }

  get size(): number {
    return this.#nonces.length;
  }
}

const poolsByNewNonceUrl = new Map<string, NoncePool>();

/** The pool of the CA whose newNonce URL this is: shared by every client of that CA in this process. */
export function noncePoolFor(newNonceUrl: string): NoncePool {
  let pool = poolsByNewNonceUrl.get(newNonceUrl);
  if (!pool) {
    pool = new NoncePool();
    poolsByNewNonceUrl.set(newNonceUrl, pool);
  }
  return pool;
}

/** Whether `value` can be a nonce (RFC 8555 §6.5.1: base64url). */
export function isNonce(value: unknown): value is string {
  return typeof value === 'string' && NONCE.test(value);
}
