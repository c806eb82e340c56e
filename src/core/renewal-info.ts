import type { AcmeDirectory } from '../acme/client.js';
import type { RenewalInfo } from '../acme/ari.js';
import type { Store } from '../store/store.js';
import { certificateKey, decodeRecord, encodeRecord } from './certificate-record.js';
import type { CertificateRecord, StoredRenewalInfo } from './certificate-record.js';
import { chooseRenewalMoment } from './renewal-decision.js';
import { mapWithConcurrency } from '../domain/concurrency.js';

/**
 * Keeping each certificate's ARI window (RFC 9773) up to date before a renewal run decides what is due.
 *
 * The CA asked is the one that issued the certificate (its stored directory), never the one configured now.
 * It is asked only when nothing is stored for the current version or the stored Retry-After has passed, so a
 * run over many certificates does not mean a request per certificate per run. A CA without `renewalInfo` in
 * its directory leaves the lifetime rule in charge, quietly; one that does not answer usably, with a warning.
 */
export interface RenewalInfoDependencies {
  store: Store;
  /** The directory of a CA, with the certificate's trust (its stored CA bundle, or the run's --ca-bundle). */
  readDirectory: (directoryUrl: string, caBundlePem: string | null) => Promise<AcmeDirectory>;
  fetch: (renewalInfoUrl: string, certificatePem: string, caBundlePem: string | null) => Promise<RenewalInfo>;
  now: () => Date;
  concurrency: number;
  random?: (span: number) => number;
}

export type RenewalInfoNote =
  /** Asked the CA; `stored` is false when another process held the certificate's lock or changed it meanwhile. */
  | { name: string; outcome: 'fetched'; info: StoredRenewalInfo; stored: boolean }
  /** The stored answer is still good (before its Retry-After). */
  | { name: string; outcome: 'fresh'; info: StoredRenewalInfo }
  /** The CA's directory has no renewalInfo. */
  | { name: string; outcome: 'no-ari'; server: string }
  /** The CA (or its directory) did not answer usably: the lifetime rule applies this run. */
  | { name: string; outcome: 'failed'; error: unknown };

export interface RefreshOptions {
  /** A --ca-bundle given to this run wins over the one stored with the certificate. */
  caBundlePem?: string | null;
}

const ARI_LOCK_TTL_MS = 30_000;

/** The stored ARI info about the current version, if any (an answer about an earlier version is moot). */
function storedRenewalInfo(record: CertificateRecord): StoredRenewalInfo | undefined {
  return record.renewalInfo?.serial === record.current.serial ? record.renewalInfo : undefined;
}

/**
 * True when a window is stored for the current version (so its CA offers ARI) and its Retry-After has passed:
 * a run will ask that CA again. The requests of a fleet's cron runs are worth spreading with the random wait.
 */
export function renewalInfoStale(record: CertificateRecord, now: Date): boolean {
  const stored = storedRenewalInfo(record);
  return stored !== undefined && renewalInfoWanted(record, now);
}

/**
 * True when a run would ask the CA about this certificate's window: it is neither revoked nor expired (due
 * whatever the CA says) and nothing is stored for its current version, or the stored Retry-After has passed.
 */
export function renewalInfoWanted(record: CertificateRecord, now: Date): boolean {
  if (record.current.revoked || now >= new Date(record.current.notAfter)) return false;
  const stored = storedRenewalInfo(record);
  return !stored || now >= new Date(stored.retryAfter);
}

/**
 * Brings the stored ARI info of `records` up to date where needed; returns the records with the info to decide
 * on (stored or not) and a note per certificate that was looked at.
 */
export async function refreshRenewalInfo(
  records: readonly CertificateRecord[],
  options: RefreshOptions,
  deps: RenewalInfoDependencies,
): Promise<{ records: CertificateRecord[]; notes: RenewalInfoNote[] }> {
  const directories = new Map<string, Promise<AcmeDirectory>>();
  const directoryOf = (server: string, caBundlePem: string | null): Promise<AcmeDirectory> => {
    let directory = directories.get(server);
    if (!directory) {
      directory = deps.readDirectory(server, caBundlePem);
      directories.set(server, directory);
    }
    return directory;
  };

  const results = await mapWithConcurrency(records, deps.concurrency, async (record): Promise<{ record: CertificateRecord; note: RenewalInfoNote | null }> => {
    const now = deps.now();
    if (!renewalInfoWanted(record, now)) {
      // Revoked or expired: due whatever the CA says (no note); otherwise the stored answer is still good.
      const stored = record.current.revoked || now >= new Date(record.current.notAfter) ? undefined : storedRenewalInfo(record);
      return { record, note: stored ? { name: record.name, outcome: 'fresh', info: stored } : null };
    }
    const caBundlePem = options.caBundlePem ?? record.settings.caBundlePem;
    try {
      const directory = await directoryOf(record.settings.server, caBundlePem);
      if (typeof directory.renewalInfo !== 'string' || directory.renewalInfo === '') {
        return { record, note: { name: record.name, outcome: 'no-ari', server: record.settings.server } };
      }
      const answer = await deps.fetch(directory.renewalInfo, record.current.certPem, caBundlePem);
      const fetchedAt = deps.now();
      const info: StoredRenewalInfo = {
        serial: record.current.serial,
        windowStart: answer.start.toISOString(),
        windowEnd: answer.end.toISOString(),
        renewAt: chooseRenewalMoment(answer, storedRenewalInfo(record), deps.random).toISOString(),
        explanationURL: answer.explanationURL,
        fetchedAt: fetchedAt.toISOString(),
        retryAfter: new Date(fetchedAt.getTime() + answer.retryAfterMs).toISOString(),
      };
      const written = await storeRenewalInfo(deps.store, record, info);
      return { record: written ?? { ...record, renewalInfo: info }, note: { name: record.name, outcome: 'fetched', info, stored: written !== null } };
    } catch (error) {
      return { record, note: { name: record.name, outcome: 'failed', error } };
    }
  });
  return { records: results.map((r) => r.record), notes: results.flatMap((r) => (r.note ? [r.note] : [])) };
}

/**
 * Stores the info with the certificate, under its lock (taken only if free) and as a compare-and-set on the
 * revision read under it: a renewal in progress elsewhere, which holds the lock and will compare-and-set the
 * new version, is never disturbed; two hosts asking at once store one answer, not a fight. Returns the record
 * as stored, or null when it was not (the answer still counts for this run).
 */
async function storeRenewalInfo(store: Store, record: CertificateRecord, info: StoredRenewalInfo): Promise<CertificateRecord | null> {
  const key = certificateKey(record.name);
  const lease = await store.lock(key, { ttlMs: ARI_LOCK_TTL_MS, waitMs: 0 });
  if (!lease) return null;
  try {
    const entry = await store.get(key);
    if (!entry) return null;
    const current = decodeRecord(entry.value, key);
    if (current.current.serial !== info.serial) return null; // renewed meanwhile: the info is about the old one
    const next: CertificateRecord = { ...current, renewalInfo: info };
    const written = await store.put(key, encodeRecord(next), { ifRev: entry.rev });
    return written.ok ? next : null;
  } finally {
    await lease.release();
  }
}
