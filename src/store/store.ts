/**
 * The storage contract every backend honours (memory, sqlite, redis, etcd, consul, vault).
 * One shared contract test suite (test/store/contract.ts) runs against each backend.
 *
 * Keys are '/'-separated paths built by `storeKey()` (src/store/keys.ts); backends never see a key
 * that did not come from there. Values are opaque bytes.
 */
export interface Entry {
  value: Uint8Array;
  /** Opaque revision. Changes on every successful write; never reused for a key, even after delete. */
  rev: string;
  /** Epoch milliseconds after which the entry no longer exists, for entries written with a TTL. */
  expiresAt?: number;
}

/** An entry with its key, as `entries()` yields them. */
export interface KeyedEntry {
  key: string;
  entry: Entry;
}

export interface PutOptions {
  /** The entry disappears (get/list/ifAbsent no longer see it) this many milliseconds after the write. */
  ttlMs?: number;
  /** Compare-and-set: write only if the entry currently exists with exactly this revision. */
  ifRev?: string;
  /** Create-only: write only if no live (unexpired) entry exists. */
  ifAbsent?: boolean;
}

export type PutResult = { ok: true; rev: string } | { ok: false };

export interface LockOptions {
  /** How long the lease lives unless refreshed. The lease refreshes itself at a third of this. */
  ttlMs: number;
  /** How long to keep trying to acquire before giving up with null. Default 0: one attempt. */
  waitMs?: number;
  /** Stops the waiting (an AbortedError) once aborted: SIGINT/SIGTERM must not wait out waitMs. */
  signal?: AbortSignal;
}

/**
 * A held lock. Callers must re-read whatever they protect after acquiring it (another holder may have
 * done the work meanwhile) and must check `signal` before committing: once aborted, the lease is lost
 * and someone else may hold the lock.
 */
export interface Lease {
  readonly name: string;
  /**
   * Fencing token: strictly greater than the token of every earlier lease on the same name, across
   * processes and hosts. Stored with what the holder writes so a stale holder can be recognised.
   */
  readonly fence: bigint;
  /** Aborted when the lease is lost (expired, taken over, refresh failed) or released. */
  readonly signal: AbortSignal;
  /** Extends the lease by ttlMs. Resolves false (and aborts `signal`) if it was already lost. */
  refresh(): Promise<boolean>;
  /** Releases the lease if this holder still owns it; idempotent; never releases another holder's lease. */
  release(): Promise<void>;
}

export interface Store {
  /** Backend name for messages: 'sqlite', 'memory', ... */
  readonly kind: string;
  /** True when other hosts can see what this store holds (redis, etcd, ...); false for sqlite/memory. */
  readonly shared: boolean;
  /** The entry, or null when absent or expired. */
  get(key: string): Promise<Entry | null>;
  /** Writes the value. With ifRev/ifAbsent, `{ok: false}` means the condition failed and nothing was written. */
  put(key: string, value: Uint8Array, options?: PutOptions): Promise<PutResult>;
  /** Deletes the entry; with ifRev only if it still has that revision. True when something was deleted. */
  delete(key: string, options?: { ifRev?: string }): Promise<boolean>;
  /** Every live key that starts with `prefix` (a literal prefix: no pattern characters), in key order. */
  list(prefix: string): AsyncIterable<string>;
  /**
   * Every live entry whose key starts with `prefix`, with its key, in key order: what `list` then `get` of each
   * key would give, read in as few requests as the backend allows (one query, a range read, MGET batches) rather
   * than one round trip per key. An entry deleted between the backend's steps is left out.
   */
  entries(prefix: string): AsyncIterable<KeyedEntry>;
  /** Tries to take the named lock lease; null when another holder has it (after waitMs, if given). */
  lock(name: string, options: LockOptions): Promise<Lease | null>;
  /** Releases held leases and connections. The store must not be used afterwards. */
  close(): Promise<void>;
}
