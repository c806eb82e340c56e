import { abortedError, OperationError } from '../domain/errors.js';

// Polls honour the CA's Retry-After (RFC 8555 §7.4: "processing" answers carry one); client.ts reads it with this.
export { parseRetryAfter } from './retry-after.js';

export interface PollResult<T> {
  value: T;
  /** Milliseconds the server asked us to wait (Retry-After), if it said so. */
  retryAfterMs?: number;
}

export interface PollOptions {
  /** Epoch milliseconds after which polling gives up with an OperationError. */
  deadline: number;
  /** What is being waited for, for the timeout message: "the authorization of example.com". */
  what: string;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Delays between checks: the first re-check comes after 20 ms and three have been made within 170 ms (Pebble
 * and fast production CAs finish a validation or a finalize in tens of milliseconds; a first re-check at
 * 100 ms cost up to 200 ms per certificate), then the delay grows gently — validations commonly take 0.3–3 s,
 * and a doubling schedule would oversleep most of them — up to one check every 5 s. A Retry-After from the
 * CA always wins over a shorter delay of ours. acme-client's own waitForValidStatus starts at 5 s.
 */
export const POLL_DELAYS_MS = [20, 50, 100, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000] as const;

/**
 * Calls `check` until `settled(value)` holds, waiting per POLL_DELAYS_MS or longer when the server sends
 * Retry-After, and never past the deadline. Throws OperationError on timeout, AbortedError when cancelled.
 */
export async function pollUntil<T>(check: () => Promise<PollResult<T>>, settled: (value: T) => boolean, options: PollOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted) throw abortedError(options.signal, `while waiting for ${options.what}`);
    const { value, retryAfterMs } = await check();
    if (settled(value)) return value;
    const ownDelay = POLL_DELAYS_MS[Math.min(attempt, POLL_DELAYS_MS.length - 1)]!;
    const delay = Math.max(ownDelay, retryAfterMs ?? 0);
    const remaining = options.deadline - now();
    if (remaining <= 0 || delay > remaining) {
      const asked = retryAfterMs && retryAfterMs > remaining ? ` (the CA asked to retry after ${Math.ceil(retryAfterMs / 1000)} s)` : '';
      throw new OperationError(`timed out waiting for ${options.what}${asked}`, { hint: 'the CA may be slow or overloaded: try again later, or raise --order-timeout' });
    }
    try {
      await sleep(delay, options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw abortedError(options.signal, `while waiting for ${options.what}`);
      throw error;
    }
  }
}

/** Waits `ms`; rejects with an AbortedError that gives the signal's reason (see abortedError) once it is aborted. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
