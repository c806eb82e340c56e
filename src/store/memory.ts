/**
 * In-process store for tests and `--store memory:` dry runs. Nothing survives the process, and nothing is
 * shared with other processes. It honours the full Store contract so the contract suite can pin the
 * semantics the persistent backends must match.
 */
import { compareUtf8 } from '../domain/compare-utf8.js';
import { StoreBackend } from './backend.js';
import { StoreErrors } from './errors.js';
import type { Entry, PutOptions, PutResult } from './store.js';
import { expiryOf } from './put-options.js';

interface StoredEntry {
  value: Uint8Array;
  rev: bigint;
  expiresAt: number | undefined;
}

interface LockRecord {
  owner: string;
  fence: bigint;
  expiresAt: number;
}

/**
 * A Store in a Map. Revisions come from one counter for the whole store that only ever grows, so a
 * revision is never reused, not even by a key deleted and written again. Expiry is checked on every read
 * (an expired entry is treated as absent and dropped). All operations complete synchronously inside their
 * promise, so each one is atomic with respect to the others.
 */
export class MemoryStore extends StoreBackend {
  readonly kind = 'memory';
  readonly shared = false;

  readonly #entries = new Map<string, StoredEntry>();
  readonly #locks = new Map<string, LockRecord>();
  /** Last fencing token per lock name; kept after release so tokens keep growing. */
  readonly #lastFence = new Map<string, bigint>();
  #lastRev = 0n;

  constructor() {
    super(new StoreErrors('memory', 'memory:'));
  }

  async get(key: string): Promise<Entry | null> {
    this.checkOpen();
    const entry = this.#live(key, Date.now());
    if (entry === undefined) return null;
    return toEntry(entry);
  }

  async put(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.checkOpen();
    const now = Date.now();
    const expiresAt = expiryOf(options, now);
    const current = this.#live(key, now);
    if (options.ifAbsent === true && current !== undefined) return { ok: false };
    if (options.ifRev !== undefined && (current === undefined || String(current.rev) !== options.ifRev)) {
      return { ok: false };
    }
    this.#lastRev += 1n;
    // Copy: the caller may reuse its buffer after put() resolves.
    this.#entries.set(key, { value: new Uint8Array(value), rev: this.#lastRev, expiresAt });
    return { ok: true, rev: String(this.#lastRev) };
  }

  async delete(key: string, options: { ifRev?: string } = {}): Promise<boolean> {
    this.checkOpen();
    const current = this.#live(key, Date.now());
    if (current === undefined) return false;
    if (options.ifRev !== undefined && String(current.rev) !== options.ifRev) return false;
    this.#entries.delete(key);
    return true;
  }

  /** Live keys starting with `prefix` (compared literally), in UTF-8 byte order, as of the first next(). */
  async *list(prefix: string): AsyncIterable<string> {
    this.checkOpen();
    const now = Date.now();
    const keys: string[] = [];
    for (const key of this.#entries.keys()) {
      if (key.startsWith(prefix) && this.#live(key, now) !== undefined) keys.push(key);
    }
    keys.sort(compareUtf8);
    yield* keys;
  }

  /** Empties the store once its leases are released. */
  protected disconnect(): void {
    this.#entries.clear();
    this.#locks.clear();
  }

  #live(key: string, now: number): StoredEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  protected acquireLock(name: string, owner: string, ttlMs: number): bigint | null {
    const now = Date.now();
    const current = this.#locks.get(name);
    if (current !== undefined && current.expiresAt > now) return null;
    const fence = (this.#lastFence.get(name) ?? 0n) + 1n;
    this.#lastFence.set(name, fence);
    this.#locks.set(name, { owner, fence, expiresAt: now + ttlMs });
    return fence;
  }

  protected renewLock(name: string, owner: string, fence: bigint, ttlMs: number): boolean {
    const now = Date.now();
    const current = this.#locks.get(name);
    if (current === undefined || current.owner !== owner || current.fence !== fence || current.expiresAt <= now) {
      return false;
    }
    current.expiresAt = now + ttlMs;
    return true;
  }

  protected releaseLock(name: string, owner: string, fence: bigint): boolean {
    const current = this.#locks.get(name);
    if (current === undefined || current.owner !== owner || current.fence !== fence) return false;
    this.#locks.delete(name);
    return true;
  }
}

function toEntry(entry: StoredEntry): Entry {
  const result: Entry = { value: new Uint8Array(entry.value), rev: String(entry.rev) };
  if (entry.expiresAt !== undefined) result.expiresAt = entry.expiresAt;
  return result;
}
