import { OperationError } from '../domain/errors.js';
import { storeKey } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { isValidToken } from '../domain/http01.js';
import type { Http01Challenge, Http01Solver } from '../domain/http01.js';
import { validationHint } from './validation-hints.js';
import type { ValidationFailure } from '../domain/http01.js';

/** Tokens live for an hour at most: long enough for any validation, short enough to leave no litter. */
export const CHALLENGE_TTL_MS = 3_600_000;

export const challengeKey = (token: string): string => storeKey('challenges', token);

/**
 * Publishes every HTTP-01 answer to a shared store, where `acmectl serve` on any node behind the load
 * balancer finds it, and also hands it to the wrapped local solver (standalone or webroot) when there is one
 * (`--challenge store` has none). Distribution wraps a solver instead of living inside each one.
 */
export class StorePublishingSolver implements Http01Solver {
  constructor(
    private readonly store: Store,
    private readonly inner: Http01Solver | null,
  ) {}

  get description(): string {
    return this.inner ? `${this.inner.description}, and the shared ${this.store.kind} store` : `the shared ${this.store.kind} store (answered by acmectl serve)`;
  }

  async checkReady(): Promise<void> {
    await this.inner?.checkReady?.();
  }

  hintFor(failure: ValidationFailure): string | undefined {
    return this.inner ? this.inner.hintFor?.(failure) : validationHint({ method: 'store' }, failure);
  }

  async present(challenge: Http01Challenge): Promise<void> {
    if (!isValidToken(challenge.token)) throw new OperationError(`refusing an unsafe challenge token for ${challenge.identifier}`);
    await this.store.put(challengeKey(challenge.token), Buffer.from(challenge.keyAuthorization), { ttlMs: CHALLENGE_TTL_MS });
    await this.inner?.present(challenge);
  }

  async cleanUp(challenge: Http01Challenge): Promise<void> {
    const results = await Promise.allSettled([
      isValidToken(challenge.token) ? this.store.delete(challengeKey(challenge.token)) : Promise.resolve(false),
      this.inner?.cleanUp(challenge) ?? Promise.resolve(),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async close(): Promise<void> {
    await this.inner?.close();
  }
}
