import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError } from '../domain/errors.js';
import { LeaseKeeper, leaseTestControls, type LeasePrimitives } from './lease.js';
import type { Lease } from './store.js';

/** Scriptable primitives that record every call with the (fake) time it happened. */
function fakePrimitives(overrides: Partial<LeasePrimitives> = {}) {
  const calls = {
    acquire: [] as Array<{ at: number; owner: string }>,
    renew: [] as Array<{ at: number; owner: string; fence: bigint }>,
    release: [] as Array<{ at: number; owner: string; fence: bigint }>,
  };
  let nextFence = 1n;
  const primitives: LeasePrimitives = {
    acquire: async (name, owner, ttlMs) => {
      calls.acquire.push({ at: Date.now(), owner });
      return overrides.acquire ? overrides.acquire(name, owner, ttlMs) : nextFence++;
    },
    renew: async (name, owner, fence, ttlMs) => {
      calls.renew.push({ at: Date.now(), owner, fence });
      return overrides.renew ? overrides.renew(name, owner, fence, ttlMs) : true;
    },
    release: async (name, owner, fence) => {
      calls.release.push({ at: Date.now(), owner, fence });
      return overrides.release ? overrides.release(name, owner, fence) : true;
    },
  };
  return { primitives, calls };
}

async function lockOrFail(keeper: LeaseKeeper, ttlMs: number): Promise<Lease> {
  const lease = await keeper.lock('cert/example.com', { ttlMs });
  if (lease === null) throw new Error('expected a lease');
  return lease;
}

describe('LeaseKeeper', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refreshes a held lease every ttlMs/3', async () => {
    const { primitives, calls } = fakePrimitives();
    const lease = await lockOrFail(new LeaseKeeper(primitives), 300);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.renew.map((call) => call.at - 1_000_000)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000]);
    expect(calls.renew.every((call) => call.fence === lease.fence)).toBe(true);
    expect(lease.signal.aborted).toBe(false);
  });

  it('aborts signal as lost when a refresh is refused, and stops refreshing', async () => {
    let accept = true;
    const { primitives, calls } = fakePrimitives({ renew: async () => accept });
    const lease = await lockOrFail(new LeaseKeeper(primitives), 300);
    await vi.advanceTimersByTimeAsync(250);
    expect(lease.signal.aborted).toBe(false);
    accept = false;
    await vi.advanceTimersByTimeAsync(100);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toBeInstanceOf(AbortedError);
    expect((lease.signal.reason as Error).message).toMatch(/lost the lock lease on "cert\/example.com".*took it over/);
    const renewsSoFar = calls.renew.length;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.renew).toHaveLength(renewsSoFar);
  });

  it('aborts signal as lost when a refresh throws, keeping the cause', async () => {
    const failure = new Error('connection reset');
    const { primitives } = fakePrimitives({
      renew: async () => {
        throw failure;
      },
    });
    const lease = await lockOrFail(new LeaseKeeper(primitives), 300);
    await vi.advanceTimersByTimeAsync(100);
    expect(lease.signal.aborted).toBe(true);
    expect((lease.signal.reason as Error).message).toMatch(/lost .*connection reset/);
    expect((lease.signal.reason as Error).cause).toBe(failure);
  });

  it('aborts signal when the local deadline passes while a refresh hangs', async () => {
    const { primitives } = fakePrimitives({ renew: () => new Promise<boolean>(() => {}) });
    const lease = await lockOrFail(new LeaseKeeper(primitives), 300);
    await vi.advanceTimersByTimeAsync(299);
    expect(lease.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(lease.signal.aborted).toBe(true);
    expect((lease.signal.reason as Error).message).toMatch(/lost .*no refresh succeeded within its 300 ms/);
    expect(await lease.refresh()).toBe(false);
  });

  it('a successful refresh moves the local deadline to ttlMs after the refresh was sent', async () => {
    const { primitives } = fakePrimitives();
    const lease = await lockOrFail(new LeaseKeeper(primitives), 300);
    leaseTestControls(lease).stopAutoRefresh();
    await vi.advanceTimersByTimeAsync(200);
    expect(await lease.refresh()).toBe(true);
    await vi.advanceTimersByTimeAsync(299); // t = 499 < 200 + 300
    expect(lease.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(lease.signal.aborted).toBe(true);
  });

  it('freeze() stops both the refresh and the deadline', async () => {
    const { primitives, calls } = fakePrimitives();
    const lease = await lockOrFail(new LeaseKeeper(primitives), 300);
    leaseTestControls(lease).freeze();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.renew).toHaveLength(0);
    expect(lease.signal.aborted).toBe(false);
  });

  it('release is idempotent: one backend release, signal aborted, no more refreshes', async () => {
    const { primitives, calls } = fakePrimitives();
    const lease = await lockOrFail(new LeaseKeeper(primitives), 300);
    await Promise.all([lease.release(), lease.release()]);
    await lease.release();
    expect(calls.release).toHaveLength(1);
    expect(calls.release[0]!.fence).toBe(lease.fence);
    expect(lease.signal.aborted).toBe(true);
    expect((lease.signal.reason as Error).message).toMatch(/released/);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.renew).toHaveLength(0);
    expect(await lease.refresh()).toBe(false);
    expect(calls.renew).toHaveLength(0);
  });

  it('release after a loss still asks the backend to release (compare-and-delete cleans up if still ours)', async () => {
    const { primitives, calls } = fakePrimitives({ renew: async () => false });
    const lease = await lockOrFail(new LeaseKeeper(primitives), 300);
    await vi.advanceTimersByTimeAsync(100);
    expect(lease.signal.aborted).toBe(true);
    await lease.release();
    expect(calls.release).toHaveLength(1);
    expect((lease.signal.reason as Error).message).toMatch(/lost/); // the first reason stays
  });

  it('gives every lease its own random owner id and passes the same owner to renew and release', async () => {
    const { primitives, calls } = fakePrimitives();
    const keeper = new LeaseKeeper(primitives);
    const first = await lockOrFail(keeper, 300);
    await lockOrFail(keeper, 300);
    const [ownerA, ownerB] = calls.acquire.map((call) => call.owner);
    expect(ownerA).toMatch(/^[0-9a-f-]{36}$/);
    expect(ownerA).not.toBe(ownerB);
    await first.refresh();
    await first.release();
    expect(calls.renew[0]!.owner).toBe(ownerA);
    expect(calls.release[0]!.owner).toBe(ownerA);
  });

  it('waitMs retries with jittered pauses from ~25 ms up to 250 ms until it acquires', async () => {
    let attempts = 0;
    const { primitives, calls } = fakePrimitives({ acquire: async () => (++attempts < 8 ? null : 42n) });
    const pending = new LeaseKeeper(primitives).lock('busy', { ttlMs: 1_000, waitMs: 10_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    const lease = await pending;
    expect(lease?.fence).toBe(42n);
    const pauses = calls.acquire.slice(1).map((call, i) => call.at - calls.acquire[i]!.at);
    expect(pauses).toHaveLength(7);
    expect(pauses[0]).toBeGreaterThanOrEqual(12);
    expect(pauses[0]).toBeLessThanOrEqual(25);
    for (const pause of pauses) {
      expect(pause).toBeGreaterThanOrEqual(12);
      expect(pause).toBeLessThanOrEqual(250);
    }
    expect(Math.max(...pauses)).toBeGreaterThan(100); // it backed off
  });

  it('waitMs gives up with null at the deadline, trying one last time there', async () => {
    const { primitives, calls } = fakePrimitives({ acquire: async () => null });
    let result: Lease | null | undefined;
    void new LeaseKeeper(primitives).lock('busy', { ttlMs: 1_000, waitMs: 1_000 }).then((lease) => {
      result = lease;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(result).toBeNull();
    expect(calls.acquire.at(-1)!.at - 1_000_000).toBe(1_000);
    expect(calls.acquire.length).toBeGreaterThan(4);
  });

  it('stops waiting at once when its signal is aborted (SIGTERM), saying why, and takes nothing', async () => {
    const { primitives, calls } = fakePrimitives({ acquire: async () => null });
    const controller = new AbortController();
    let outcome: unknown;
    void new LeaseKeeper(primitives).lock('busy', { ttlMs: 1_000, waitMs: 600_000, signal: controller.signal }).then(
      (lease) => (outcome = lease),
      (error: unknown) => (outcome = error),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    const attempts = calls.acquire.length;
    controller.abort(new AbortedError('interrupted by SIGTERM'));
    await vi.advanceTimersByTimeAsync(0);
    expect(outcome).toBeInstanceOf(AbortedError);
    expect((outcome as Error).message).toBe('interrupted by SIGTERM while waiting for the lock "busy"');
    expect(calls.acquire).toHaveLength(attempts);
    expect(vi.getTimerCount()).toBe(0);
    await expect(new LeaseKeeper(primitives).lock('busy', { ttlMs: 1_000, waitMs: 1_000, signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(calls.acquire).toHaveLength(attempts);
  });

  it('without waitMs it tries exactly once', async () => {
    const { primitives, calls } = fakePrimitives({ acquire: async () => null });
    expect(await new LeaseKeeper(primitives).lock('busy', { ttlMs: 1_000 })).toBeNull();
    expect(calls.acquire).toHaveLength(1);
  });

  it.each([
    [{ ttlMs: 0 }],
    [{ ttlMs: -5 }],
    [{ ttlMs: Number.NaN }],
    [{ ttlMs: Number.POSITIVE_INFINITY }],
    [{ ttlMs: 1_000, waitMs: -1 }],
  ])('rejects %j', async (options) => {
    const { primitives, calls } = fakePrimitives();
    await expect(new LeaseKeeper(primitives).lock('x', options)).rejects.toThrow(RangeError);
    expect(calls.acquire).toHaveLength(0);
  });

  it('close() releases every held lease and refuses new ones', async () => {
    const { primitives, calls } = fakePrimitives();
    const keeper = new LeaseKeeper(primitives);
    const [a, b] = [await lockOrFail(keeper, 300), await lockOrFail(keeper, 300)];
    await a.release();
    await keeper.close();
    expect(calls.release.map((call) => call.fence)).toEqual([a.fence, b.fence]);
    expect(b.signal.aborted).toBe(true);
    await expect(keeper.lock('x', { ttlMs: 300 })).rejects.toThrow(/closed/);
  });

  it('a lease acquired while close() runs is released instead of handed out', async () => {
    let finishAcquire: (fence: bigint) => void = () => {};
    const { primitives, calls } = fakePrimitives({
      acquire: () => new Promise<bigint>((resolve) => (finishAcquire = resolve)),
    });
    const keeper = new LeaseKeeper(primitives);
    const pending = keeper.lock('x', { ttlMs: 300 });
    await vi.advanceTimersByTimeAsync(0);
    await keeper.close();
    finishAcquire(7n);
    await expect(pending).rejects.toThrow(/closed/);
    expect(calls.release.map((call) => call.fence)).toEqual([7n]);
  });
});
