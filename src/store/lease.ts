/**
 * The lease keeper every backend shares. A backend only supplies three atomic primitives on its own lock
 * records; everything about keeping a lease alive (owner ids, refresh timers, noticing loss, waiting for a
 * busy lock) lives here once, so memory, sqlite, redis, etcd, consul and vault behave the same.
 */
import { randomUUID } from 'node:crypto';
import { AbortedError, abortedError } from '../domain/errors.js';
import { describeError } from '../net/error-text.js';
import type { Lease, LockOptions } from './store.js';

/**
 * Atomic operations on one backend's lock records. Each must be a single atomic step on the backend
 * (a transaction, `SET NX PX`, a CAS), because two processes on two hosts may call them at the same instant.
 */
export interface LeasePrimitives {
  /**
   * Takes the lock `name` for `owner` for `ttlMs` when nobody holds it or the previous lease has expired.
   * Returns the new fencing token — strictly greater than every token ever handed out for `name`, even
   * after the lock record was deleted — or null when a live lease exists.
   */
  acquire(name: string, owner: string, ttlMs: number): Promise<bigint | null>;
  /** Extends the lease to now + ttlMs only if `owner`/`fence` still hold it and it has not expired. */
  renew(name: string, owner: string, fence: bigint, ttlMs: number): Promise<boolean>;
  /** Deletes the lock record only if `owner`/`fence` still hold it (compare-and-delete). */
  release(name: string, owner: string, fence: bigint): Promise<boolean>;
}

/** First and largest pause between attempts while waiting for a busy lock (before jitter). */
const FIRST_RETRY_DELAY_MS = 25;
const MAX_RETRY_DELAY_MS = 250;

/**
 * Hands out leases on top of `LeasePrimitives`.
 *
 * Concurrency: any number of `lock()` calls may run at once, in this process and others; the primitives
 * decide who wins. Every lease has its own random owner id, so two leases from the same process are as
 * distinct as two from different hosts. Timers that keep a lease alive are unref'd: a forgotten lease never
 * keeps the process running (it simply expires on the backend after ttlMs).
 */
export class LeaseKeeper {
  readonly #primitives: LeasePrimitives;
  readonly #held = new Set<KeptLease>();
  #closed = false;

  constructor(primitives: LeasePrimitives) {
    this.#primitives = primitives;
  }

  /**
   * Tries to take the lock `name`. With `waitMs` > 0 it retries with short jittered pauses (25 ms growing
   * to 250 ms) until `waitMs` has passed, then gives up with null. Errors from the backend propagate; once
   * `signal` is aborted it stops waiting with an AbortedError.
   * The pauses are ordinary (ref'd) timers on purpose: the caller is awaiting the result, and an unref'd
   * pause would let Node exit in the middle of that await. They are bounded by waitMs.
   */
  async lock(name: string, options: LockOptions): Promise<Lease | null> {
    const ttlMs = checkDuration('ttlMs', options.ttlMs, { positive: true });
    const waitMs = checkDuration('waitMs', options.waitMs ?? 0, { positive: false });
    this.#checkOpen();
    const owner = randomUUID();
    const giveUpAt = Date.now() + waitMs;
    let retryDelayMs = FIRST_RETRY_DELAY_MS;
    for (;;) {
      if (options.signal?.aborted) throw abortedError(options.signal, `while waiting for the lock "${name}"`);
      // The lease counts from when the request left, not when the answer came back: a conservative
      // local deadline is never later than the backend's.
      const requestedAt = Date.now();
      const fence = await this.#primitives.acquire(name, owner, ttlMs);
      if (fence !== null) {
        if (this.#closed) {
          // close() ran while we were acquiring: do not hand out a lease nobody will release.
          await this.#primitives.release(name, owner, fence);
          this.#checkOpen();
        }
        const lease = new KeptLease(name, owner, fence, ttlMs, requestedAt, this.#primitives, (done) =>
          this.#held.delete(done),
        );
        this.#held.add(lease);
        return lease;
      }
      const remainingMs = giveUpAt - Date.now();
      if (remainingMs <= 0) return null;
      // Jitter so that processes that collided once do not collide again in lockstep.
      const pauseMs = retryDelayMs / 2 + Math.random() * (retryDelayMs / 2);
      await sleep(Math.min(remainingMs, pauseMs), options.signal);
      this.#checkOpen();
      retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2);
    }
  }

  /**
   * Releases every lease still held (best effort: a backend error on one does not stop the others; the
   * record then expires by itself) and refuses further `lock()` calls. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#held].map((lease) => lease.release()));
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('the store is closed');
  }
}

/**
 * Test-only controls that simulate a holder whose refreshes stop getting through. Reach them with
 * `leaseTestControls(lease)`; production code never calls them.
 */
export interface LeaseTestControls {
  /** Stops the automatic refresh; the local deadline still aborts `signal` when ttlMs passes without one. */
  stopAutoRefresh(): void;
  /** Stops the automatic refresh and the local deadline, as if the whole process were frozen (SIGSTOP). */
  freeze(): void;
}

const testControls = Symbol('acmectl.leaseTestControls');

/** The test controls of a lease made by LeaseKeeper; throws for any other Lease. */
export function leaseTestControls(lease: Lease): LeaseTestControls {
  const controls = (lease as Partial<Record<typeof testControls, LeaseTestControls>>)[testControls];
  if (controls === undefined) throw new TypeError('this lease was not made by LeaseKeeper');
  return controls;
}

type LeaseState = 'held' | 'lost' | 'released';

/**
 * One held lease. While held it refreshes itself every ttlMs/3. It aborts `signal` with an AbortedError
 * the moment it knows or must assume the lease is gone: a refresh is refused (someone else holds it, or it
 * expired) or throws, or ttlMs passes since the last successful refresh was sent (the backend may have
 * expired it; we cannot tell). Release aborts `signal` too.
 */
class KeptLease implements Lease {
  readonly name: string;
  readonly fence: bigint;
  readonly #owner: string;
  readonly #ttlMs: number;
  readonly #primitives: LeasePrimitives;
  readonly #forget: (lease: KeptLease) => void;
  readonly #controller = new AbortController();
  #state: LeaseState = 'held';
  /** Local deadline: the backend cannot have expired the lease before this instant. */
  #validUntil: number;
  #refreshTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #autoRefresh = true;
  #deadlineWatch = true;
  #releasing: Promise<void> | undefined;

  constructor(
    name: string,
    owner: string,
    fence: bigint,
    ttlMs: number,
    acquiredAt: number,
    primitives: LeasePrimitives,
    forget: (lease: KeptLease) => void,
  ) {
    this.name = name;
    this.fence = fence;
    this.#owner = owner;
    this.#ttlMs = ttlMs;
    this.#primitives = primitives;
    this.#forget = forget;
    this.#validUntil = acquiredAt + ttlMs;
    this.#scheduleRefresh();
    this.#armDeadline();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Extends the lease by ttlMs from now. Resolves false, and aborts `signal`, when the lease was already
   * lost (including a backend error: we can no longer prove we hold it). After release: false, no request.
   */
  async refresh(): Promise<boolean> {
    if (this.#state !== 'held') return false;
    const requestedAt = Date.now();
    let renewed: boolean;
    try {
      renewed = await this.#primitives.renew(this.name, this.#owner, this.fence, this.#ttlMs);
    } catch (error) {
      this.#lose(`refreshing it failed: ${describeError(error)}`, error);
      return false;
    }
    // Released or lost while the request was on its way: the answer no longer matters.
    if (this.#state !== 'held') return false;
    if (!renewed) {
      this.#lose('it expired or another holder took it over');
      return false;
    }
    this.#validUntil = Math.max(this.#validUntil, requestedAt + this.#ttlMs);
    this.#armDeadline();
    return true;
  }

  /**
   * Releases the lock on the backend if this holder still owns it (compare-and-delete on owner and fence,
   * so it never releases a later holder's lease). Idempotent: later calls return the first call's promise.
   * Also called after a loss, to clean up a record nobody else has taken yet.
   */
  release(): Promise<void> {
    this.#releasing ??= this.#releaseOnce();
    return this.#releasing;
  }

  async #releaseOnce(): Promise<void> {
    if (this.#state === 'held') {
      this.#state = 'released';
      this.#controller.abort(new AbortedError(`the lock lease on "${this.name}" was released`));
    }
    this.#stopTimers();
    this.#forget(this);
    await this.#primitives.release(this.name, this.#owner, this.fence);
  }

  #lose(reason: string, cause?: unknown): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#stopTimers();
    this.#controller.abort(
      new AbortedError(`lost the lock lease on "${this.name}" (fence ${this.fence}): ${reason}`, { cause }),
    );
  }

  #scheduleRefresh(): void {
    if (this.#state !== 'held' || !this.#autoRefresh) return;
    this.#refreshTimer = setTimeout(
      () => {
        this.#refreshTimer = undefined;
        // refresh() never rejects: failures become a lost lease.
        void this.refresh().then(() => this.#scheduleRefresh());
      },
      Math.max(1, Math.floor(this.#ttlMs / 3)),
    );
    this.#refreshTimer.unref();
  }

  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    if (this.#state !== 'held' || !this.#deadlineWatch) return;
    this.#deadlineTimer = setTimeout(
      () => {
        this.#deadlineTimer = undefined;
        if (Date.now() >= this.#validUntil) {
          this.#lose(`no refresh succeeded within its ${this.#ttlMs} ms lifetime`);
        } else {
          this.#armDeadline();
        }
      },
      Math.max(0, this.#validUntil - Date.now()),
    );
    this.#deadlineTimer.unref();
  }

  #stopTimers(): void {
    clearTimeout(this.#refreshTimer);
    clearTimeout(this.#deadlineTimer);
    this.#refreshTimer = undefined;
    this.#deadlineTimer = undefined;
  }

  get [testControls](): LeaseTestControls {
    return {
      stopAutoRefresh: () => {
        this.#autoRefresh = false;
        clearTimeout(this.#refreshTimer);
        this.#refreshTimer = undefined;
      },
      freeze: () => {
        this.#autoRefresh = false;
        this.#deadlineWatch = false;
        this.#stopTimers();
      },
    };
  }
}

function checkDuration(name: string, value: number, { positive }: { positive: boolean }): number {
  if (!Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new RangeError(`lock ${name} must be a ${positive ? 'positive' : 'non-negative'} number of milliseconds`);
  }
  // Backends store whole milliseconds; rounding up never shortens what the caller asked for.
  return Math.ceil(value);
}

/** Resolves after `ms`, or early once `signal` is aborted (the caller checks it). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
