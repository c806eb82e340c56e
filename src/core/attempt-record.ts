import type { Entry, Store } from '../store/store.js';
import { visibleText } from '../domain/visible-text.js';
import { encodeRecord } from './certificate-record.js';
import type { CertificateRecord, LastAttempt } from './certificate-record.js';

/** Longest error kept with a failed attempt: enough for the CA's detail, not a stored essay. */
const MAX_ERROR_LENGTH = 500;

/** The attempt to note for an order that failed with `error` (visible-safe, bounded). */
export function failedAttempt(error: unknown, now: Date): LastAttempt {
  const message = visibleText(error instanceof Error ? error.message : String(error));
  return { at: now.toISOString(), ok: false, error: message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…` : message };
}

/**
 * Notes a failed order in the certificate's record, for `list --format prometheus` and `show`: a compare-and-set
 * on the revision read under the lock, which must still be held. Returns the record as it now stands (the same
 * one when nothing was written: a first issue has no record, a lost lock means someone else may be writing).
 * Never throws: a failure to note the attempt must not hide the order's own error.
 */
export async function noteFailedAttempt(
  store: Store,
  key: string,
  current: { entry: Entry; record: CertificateRecord } | null,
  leaseSignal: AbortSignal,
  error: unknown,
  now: Date,
): Promise<{ entry: Entry; record: CertificateRecord } | null> {
  if (!current || leaseSignal.aborted) return current;
  const record: CertificateRecord = { ...current.record, lastAttempt: failedAttempt(error, now), updatedAt: now.toISOString() };
  try {
    const value = encodeRecord(record);
    const written = await store.put(key, value, { ifRev: current.entry.rev });
    return written.ok ? { entry: { ...current.entry, value, rev: written.rev }, record } : current;
  } catch {
    return current;
  }
}
