import type { CaClient } from '../acme/client.js';
import { removeExport } from '../deploy/remove-export.js';
import type { Store } from '../store/store.js';
import { usableAccount } from './account-lifecycle.js';
import { findAccountEntry } from './accounts.js';
import { unknownCertificate } from './certificate-list.js';
import { certificateKey, decodeRecord, encodeRecord } from './certificate-record.js';
import type { CertificateRecord, CertificateVersion } from './certificate-record.js';
import { OperationError, UsageError } from '../domain/errors.js';
import { exportVersion } from './export-version.js';
import type { ExportTarget } from './export-version.js';
import type { CaConnector } from './issue-request.js';

/** RFC 5280 CRLReason codes a subscriber may give (the ones Let's Encrypt accepts). */
export const REVOCATION_REASONS = { unspecified: 0, keyCompromise: 1, affiliationChanged: 3, superseded: 4, cessationOfOperation: 5 } as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

const LEASE = { ttlMs: 60_000, waitMs: 60_000 };

/**
 * Runs `work` holding the certificate's lock lease, with the record as it is once the lock is held.
 * Looks before it locks: taking a lock writes to the store (a lease and its fence), and wrong input writes
 * nothing, so an unknown name, or a request `check` refuses for the record as it is now (a version that is
 * not kept, a certificate revoked already), fails (exit 2) without the lock. `check` runs again under the
 * lock, on the record `work` gets.
 */
async function withCertificate<T>(
  store: Store,
  name: string,
  check: (record: CertificateRecord) => void,
  work: (record: CertificateRecord, rev: string) => Promise<T>,
): Promise<T> {
  const key = certificateKey(name);
  const read = async (): Promise<{ record: CertificateRecord; rev: string }> => {
    const entry = await store.get(key);
    if (!entry) throw unknownCertificate(name);
    const record = decodeRecord(entry.value, key);
    check(record);
    return { record, rev: entry.rev };
  };
  await read();
  const lease = await store.lock(key, LEASE);
  if (!lease) throw new OperationError(`another acmectl process is working on "${name}"; try again later`);
  try {
    const { record, rev } = await read();
    return await work(record, rev);
  } finally {
    await lease.release();
  }
}

/** The version to write: the current one, or an earlier one from the history (a rollback). */
export function findVersion(record: CertificateRecord, version: number | undefined): CertificateVersion {
  if (version === undefined) return record.current;
  const found = [record.current, ...record.history].find((v) => v.version === version);
  if (!found) {
    const known = [record.current, ...record.history].map((v) => v.version).join(', ');
    throw new UsageError(`"${record.name}" has no version ${version}`, { hint: `versions kept: ${known}` });
  }
  return found;
}

/** `acmectl export`: writes a version's files (and extra formats) to a directory, atomically. */
export async function exportCertificate(store: Store, name: string, version: number | undefined, target: (record: CertificateRecord) => ExportTarget) {
  return withCertificate(store, name, (record) => void findVersion(record, version), async (record) => {
    const chosen = findVersion(record, version);
    const paths = await exportVersion(record, chosen, target(record));
    return { record, version: chosen, paths };
  });
}

/** `acmectl revoke`: revokes the current certificate at its CA with the account that holds it; optionally forgets it. */
export async function revokeCertificate(store: Store, connect: CaConnector, name: string, reason: RevocationReason, forget: boolean) {
  return withCertificate(store, name, refuseRevoked, async (record, rev) => {
    const found = await findAccountEntry(store, record.settings.server, record.settings.email);
    if (!found) throw new OperationError(`no account for ${record.settings.server} in the store to revoke "${name}" with`);
    const caBundlePem = record.settings.caBundlePem ?? found.record.caBundlePem ?? null;
    const account = await usableAccount(store, found, connect, caBundlePem);
    const ca: CaClient = await connect(record.settings.server, account.keyPem, { accountUrl: account.url, caBundlePem });
    await ca.revokeCertificate(record.current.certPem, REVOCATION_REASONS[reason]);
    const revoked: CertificateRecord = { ...record, current: { ...record.current, revoked: { at: new Date().toISOString(), reason } }, updatedAt: new Date().toISOString() };
    const key = certificateKey(name);
    const written = forget ? await store.delete(key, { ifRev: rev }) : (await store.put(key, encodeRecord(revoked), { ifRev: rev })).ok;
    if (!written) throw new OperationError(`"${name}" was revoked at the CA, but the store changed meanwhile and was not updated`);
    return revoked;
  });
}

function refuseRevoked(record: CertificateRecord): void {
  const { revoked, serial } = record.current;
  if (revoked) throw new UsageError(`"${record.name}" (serial ${serial}) was already revoked on ${revoked.at}`);
}

/**
 * `acmectl delete`: forgets the certificate (its history too); with `filesIn` (the record → its export
 * directory on this host), removes its exported files there.
 */
export async function deleteCertificate(store: Store, name: string, filesIn: ((record: CertificateRecord) => string) | null): Promise<{ record: CertificateRecord; removed: string[] }> {
  return withCertificate(store, name, () => undefined, async (record, rev) => {
    if (!(await store.delete(certificateKey(name), { ifRev: rev }))) throw new OperationError(`"${name}" changed while being deleted; try again`);
    const removed = filesIn ? await removeExport(filesIn(record), name) : [];
    return { record, removed };
  });
}
