import { compareUtf8 } from '../domain/compare-utf8.js';
import { MemoryStore } from './memory.js';
import type { Entry, KeyedEntry, Lease, LockOptions, PutOptions, PutResult, Store } from './store.js';

/**
 * A store for `--dry-run`: reads see the real store, writes (and locks) stay in memory and vanish on close,
 * so a dry run can do everything a real run does — register an account at the staging CA, store the new
 * certificate — and leave the real store exactly as it was.
 *
 * Revisions are tagged by origin ("b…" from the base store, "o…" from the overlay), so a compare-and-set
 * never confuses the two. Writes are serialised, which makes every conditional write atomic here.
 */
export class OverlayStore implements Store {
  readonly kind: string;
  readonly shared = false;
  readonly #base: Store;
  readonly #writes = new MemoryStore();
  /** Keys whose base entry must no longer show: deleted or overwritten in the overlay. */
  readonly #hidden = new Set<string>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(base: Store) {
    this.#base = base;
    this.kind = `${base.kind} (dry run)`;
  }

  async get(key: string): Promise<Entry | null> {
    const written = await this.#writes.get(key);
    if (written) return { ...written, rev: `o${written.rev}` };
    if (this.#hidden.has(key)) return null;
    const base = await this.#base.get(key);
    return base ? { ...base, rev: `b${base.rev}` } : null;
  }

  put(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    return this.#serialised(async () => {
      const current = await this.get(key);
      if (options.ifAbsent && current) return { ok: false };
      if (options.ifRev !== undefined && current?.rev !== options.ifRev) return { ok: false };
      const written = await this.#writes.put(key, value, options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs });
      this.#hidden.add(key);
      return written.ok ? { ok: true, rev: `o${written.rev}` } : written;
    });
  }

  delete(key: string, options: { ifRev?: string } = {}): Promise<boolean> {
    return this.#serialised(async () => {
      const current = await this.get(key);
      if (!current || (options.ifRev !== undefined && current.rev !== options.ifRev)) return false;
      await this.#writes.delete(key);
      this.#hidden.add(key);
      return true;
    });
  }

  async *list(prefix: string): AsyncIterable<string> {
    const keys = new Set<string>();
    for await (const key of this.#base.list(prefix)) if (!this.#hidden.has(key)) keys.add(key);
    for await (const key of this.#writes.list(prefix)) keys.add(key);
    // The same order as every backend: UTF-8 byte order.
    yield* [...keys].sort(compareUtf8);
  }

  /** The base store's entries in one batched read, with this overlay's writes and deletions laid over them. */
  async *entries(prefix: string): AsyncIterable<KeyedEntry> {
    const merged = new Map<string, Entry>();
    for await (const { key, entry } of this.#base.entries(prefix)) if (!this.#hidden.has(key)) merged.set(key, { ...entry, rev: `b${entry.rev}` });
    for await (const { key, entry } of this.#writes.entries(prefix)) merged.set(key, { ...entry, rev: `o${entry.rev}` });
    yield* [...merged.keys()].sort(compareUtf8).map((key) => ({ key, entry: merged.get(key)! }));
  }

  lock(name: string, options: LockOptions): Promise<Lease | null> {
    return this.#writes.lock(name, options);
  }

  /** Forgets every write and closes the base store too. */
  async close(): Promise<void> {
    await this.#writes.close();
    await this.#base.close();
  }

  #serialised<T>(step: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(step);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
