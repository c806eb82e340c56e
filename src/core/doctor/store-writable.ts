import { randomBytes } from 'node:crypto';
import { checkWritableDirectory } from '../../deploy/writable-directory.js';
import { storeKey } from '../../store/keys.js';
import type { Store } from '../../store/store.js';
import type { Check } from './check.js';
import { fail, ok } from './check.js';

export interface StoreTarget {
  /** The store URL with secrets redacted, for messages. */
  shown: string;
  /** False for a SQLite file that does not exist yet: it is not created, its directory is checked instead. */
  exists: boolean;
  /** Where a missing SQLite file would be created. */
  directory: string | null;
  open(): Promise<Store>;
}

/**
 * The store is reachable and writable: a probe key under `doctor/` is written (expiring in a minute, should the
 * delete not happen), read back and deleted. Returns the open store for the checks that read certificates.
 */
export async function checkStoreWritable(target: StoreTarget): Promise<{ check: Check; store: Store | null }> {
  if (!target.exists) {
    const dir = target.directory === null ? null : await checkWritableDirectory(target.directory);
    if (dir && !dir.writable) return { check: fail('store', null, `no store yet at ${target.shown}, and ${dir.path} is not writable (${dir.reason})`, `make ${dir.path} writable by the user acmectl runs as, or choose another --store`), store: null };
    return { check: ok('store', null, `no store yet at ${target.shown}: it is created at the first issue`), store: null };
  }
  let store: Store;
  try {
    store = await target.open();
  } catch (error) {
    return { check: fail('store', null, `could not open ${target.shown}: ${(error as Error).message}`, (error as { hint?: string }).hint ?? 'check the --store URL, that the store runs, and its credentials'), store: null };
  }
  const key = storeKey('doctor', `probe-${randomBytes(8).toString('hex')}`);
  const value = randomBytes(16);
  try {
    const written = await store.put(key, value, { ttlMs: 60_000, ifAbsent: true });
    const read = written.ok ? await store.get(key) : null;
    const deleted = await store.delete(key);
    if (!written.ok || !read || Buffer.compare(Buffer.from(read.value), value) !== 0 || !deleted) {
      return { check: fail('store', null, `${target.shown} did not keep a probe key (${key}) as written`, 'check that nothing else rewrites keys under its prefix'), store };
    }
    return { check: ok('store', null, `${target.shown} is reachable and writable`), store };
  } catch (error) {
    return { check: fail('store', null, `${target.shown} is not writable: ${(error as Error).message}`, (error as { hint?: string }).hint ?? 'check the store\'s permissions for these credentials'), store };
  }
}
