import type { PutOptions } from './store.js';

/**
 * Validates the put options every backend shares and returns the TTL in whole milliseconds (rounded up), or
 * undefined for a permanent entry. Contradictory or meaningless options are programming errors, not input.
 */
export function checkPutOptions(options: PutOptions): number | undefined {
  if (options.ifRev !== undefined && options.ifAbsent === true) {
    throw new TypeError('put: ifRev and ifAbsent cannot be combined');
  }
  if (options.ttlMs === undefined) return undefined;
  if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0) {
    throw new RangeError('put: ttlMs must be a positive number of milliseconds');
  }
  return Math.ceil(options.ttlMs);
}

/** Epoch ms at which a write with these options made at `now` expires (validating them), or undefined. */
export function expiryOf(options: PutOptions, now: number): number | undefined {
  const ttlMs = checkPutOptions(options);
  return ttlMs === undefined ? undefined : now + ttlMs;
}
