import { describe, expect, it } from 'vitest';
import { AbortedError, OperationError } from '../domain/errors.js';
import { abortableSleep, parseRetryAfter, pollUntil } from './polling.js';

/** A fake clock: sleep() advances time and records each delay. */
function fakeClock(start = 1_000_000) {
  let now = start;
  const delays: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      delays.push(ms);
      now += ms;
    },
    delays,
  };
}

describe('pollUntil', () => {
  it('re-checks within tens of milliseconds, then backs off up to 5 s', async () => {
    const clock = fakeClock();
    let calls = 0;
    const value = await pollUntil(async () => ({ value: ++calls }), (n) => n === 17, { deadline: clock.now() + 120_000, what: 'x', ...clock });
    expect(value).toBe(17);
    expect(clock.delays[0]).toBeLessThanOrEqual(20);
    // Three re-checks within 200 ms of (fake) time: a CA that finishes in tens of milliseconds is not overslept.
    expect(clock.delays.slice(0, 3).reduce((sum, d) => sum + d, 0)).toBeLessThanOrEqual(200);
    for (let i = 1; i < clock.delays.length; i++) expect(clock.delays[i]).toBeGreaterThanOrEqual(clock.delays[i - 1]!);
    expect(clock.delays).toHaveLength(16);
    expect(clock.delays.slice(-3)).toEqual([5000, 5000, 5000]);
  });

  it('waits the Retry-After the CA sends even in the fast first checks', async () => {
    const clock = fakeClock();
    let calls = 0;
    // Retry-After 0.1 s: longer than the first two delays of ours, shorter than the later ones.
    await pollUntil(async () => ({ value: ++calls, retryAfterMs: 100 }), (n) => n === 6, { deadline: clock.now() + 60_000, what: 'x', ...clock });
    expect(clock.delays).toEqual([100, 100, 100, 200, 250]);
  });

  it('returns at once when already settled', async () => {
    const clock = fakeClock();
    await pollUntil(async () => ({ value: 'valid' }), (s) => s === 'valid', { deadline: clock.now() + 1000, what: 'x', ...clock });
    expect(clock.delays).toEqual([]);
  });

  it('honours Retry-After when it is longer than its own delay', async () => {
    const clock = fakeClock();
    let calls = 0;
    await pollUntil(async () => ({ value: ++calls, retryAfterMs: 3000 }), (n) => n === 3, { deadline: clock.now() + 60_000, what: 'x', ...clock });
    expect(clock.delays).toEqual([3000, 3000]);
  });

  it('stops at the deadline with a clear error', async () => {
    const clock = fakeClock();
    const start = clock.now();
    const error = await pollUntil(async () => ({ value: 'pending' }), (s) => s === 'valid', { deadline: start + 10_000, what: 'the order', ...clock }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toMatch(/timed out waiting for the order/);
    expect(clock.now() - start).toBeLessThanOrEqual(10_000);
  });

  it('says when the CA asked to wait past the deadline', async () => {
    const clock = fakeClock();
    const error = await pollUntil(async () => ({ value: 0, retryAfterMs: 600_000 }), () => false, { deadline: clock.now() + 30_000, what: 'y', ...clock }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/asked to retry after 600 s/);
    expect(clock.delays).toEqual([]);
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const promise = pollUntil(async () => ({ value: 0 }), () => false, { deadline: Date.now() + 60_000, what: 'z', signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(promise).rejects.toBeInstanceOf(AbortedError);
  });

  it('says why it was cancelled when the reason is an AbortedError (a signal, a lost lease)', async () => {
    const controller = new AbortController();
    const promise = pollUntil(async () => ({ value: 0 }), () => false, { deadline: Date.now() + 60_000, what: 'the order', signal: controller.signal });
    setTimeout(() => controller.abort(new AbortedError('interrupted by SIGTERM')), 20);
    await expect(promise).rejects.toThrow(/^interrupted by SIGTERM while waiting for the order$/);
    await expect(abortableSleep(60_000, controller.signal)).rejects.toThrow(/^interrupted by SIGTERM$/);
    await expect(abortableSleep(60_000, AbortSignal.abort())).rejects.toThrow(/^cancelled$/);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds', () => expect(parseRetryAfter('7')).toBe(7000));
  it('reads an HTTP date', () => expect(parseRetryAfter(new Date(1_000_000 + 5000).toUTCString(), 1_000_000)).toBe(5000));
  it('ignores garbage', () => expect(parseRetryAfter('soon')).toBeUndefined());
  it('ignores absence', () => expect(parseRetryAfter(undefined)).toBeUndefined());
});
