/**
 * What every store backend shares, so that a backend is only its data layout and its server's operations:
 * the lease keeper wired to the backend's three lock primitives, `lock()`, an idempotent `close()` that
 * releases held leases before the connection goes, the closed-store check, and the wrapping of the
 * backend's own failures into OperationErrors that name the store (see errors.ts).
 */
import { AcmectlError } from '../domain/errors.js';
import { LeaseKeeper } from './lease.js';
import { describeError } from '../net/error-text.js';
import type { StoreErrors } from './errors.js';
import { mapWithConcurrency } from '../domain/concurrency.js';
import type { Entry, KeyedEntry, Lease, LockOptions, PutOptions, PutResult, Store } from './store.js';

/** Reads of entries() a backend without a batched read keeps in flight at once. */
const PARALLEL_READS = 16;

/** What a failure says in the message and the hint, and which error travels along as its cause. */
export interface FailureDescription {
  detail: string;
  hint?: string | undefined;
  cause?: unknown;
}

export abstract class StoreBackend implements Store {
  abstract readonly kind: string;
  abstract readonly shared: boolean;

  protected readonly errors: StoreErrors;
  readonly #leases: LeaseKeeper;
  #closing: Promise<void> | undefined;
  #closed = false;

  protected constructor(errors: StoreErrors) {
    this.errors = errors;
    // Each primitive is one store operation: refused once closed, its failures worded like any other.
    this.#leases = new LeaseKeeper({
      acquire: (name, owner, ttlMs) => this.run('take a lock', () => this.acquireLock(name, owner, ttlMs)),
      renew: (name, owner, fence, ttlMs) => this.run('refresh a lock', () => this.renewLock(name, owner, fence, ttlMs)),
      release: (name, owner, fence) => this.run('release a lock', () => this.releaseLock(name, owner, fence)),
    });
  }

  abstract get(key: string): Promise<Entry | null>;
  abstract put(key: string, value: Uint8Array, options?: PutOptions): Promise<PutResult>;
  abstract delete(key: string, options?: { ifRev?: string }): Promise<boolean>;
  abstract list(prefix: string): AsyncIterable<string>;

  /**
   * Backends with a batched read (one query, a range read, MGET) override this. The fallback lists the keys and
   * reads them PARALLEL_READS at a time, in batches, so that a slow consumer never holds many values.
   */
  async *entries(prefix: string): AsyncIterable<KeyedEntry> {
    const keys: string[] = [];
    for await (const key of this.list(prefix)) keys.push(key);
    for (let start = 0; start < keys.length; start += PARALLEL_READS * 4) {
      const batch = keys.slice(start, start + PARALLEL_READS * 4);
      const read = await mapWithConcurrency(batch, PARALLEL_READS, async (key) => ({ key, entry: await this.get(key) }));
      for (const { key, entry } of read) if (entry) yield { key, entry };
    }
  }

  /**
   * The backend's lock primitives (see LeasePrimitives in lease.ts): each one atomic step on the server.
   * The fencing token returned by acquireLock must grow strictly per name, forever.
   */
  protected abstract acquireLock(name: string, owner: string, ttlMs: number): Promise<bigint | null> | bigint | null;
  protected abstract renewLock(name: string, owner: string, fence: bigint, ttlMs: number): Promise<boolean> | boolean;
  protected abstract releaseLock(name: string, owner: string, fence: bigint): Promise<boolean> | boolean;

  /** Closes connections, files and whatever else the backend holds. Called once, after the leases are released. */
  protected abstract disconnect(): Promise<void> | void;

  async lock(name: string, options: LockOptions): Promise<Lease | null> {
    this.checkOpen();
    return this.#leases.lock(name, options);
  }

  /** Releases held leases (best effort), then disconnects. Idempotent: every call gets the first call's promise. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#leases.close();
      this.#closed = true;
      await this.disconnect();
    })();
    return this.#closing;
  }

  /** Throws once close() has finished releasing the leases: the store must not be used afterwards. */
  protected checkOpen(): void {
    if (this.#closed) throw this.errors.closed();
  }

  /**
   * Runs one store operation: refused once closed; AcmectlErrors and programming errors (TypeError,
   * RangeError: bad options) pass through, any other failure becomes the store's OperationError.
   */
  protected async run<T>(operation: string, step: () => Promise<T> | T): Promise<T> {
    this.checkOpen();
    try {
      return await step();
    } catch (error) {
      if (error instanceof AcmectlError || error instanceof TypeError || error instanceof RangeError) throw error;
      const { detail, hint, cause = error } = this.describeFailure(error);
      throw this.errors.failure(operation, detail, { hint, cause });
    }
  }

  /** How the backend words a failure of its server or library; by default the error's own message. */
  protected describeFailure(error: unknown): FailureDescription {
    return { detail: describeError(error) };
  }
}
