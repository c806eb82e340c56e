import type { Store } from '../store/store.js';
import { certificateKey, certificatePrefix, decodeRecord, isCertificateName } from './certificate-record.js';
import type { CertificateRecord } from './certificate-record.js';
import { UsageError } from '../domain/errors.js';
import { recordDecision } from './renewal-decision.js';
import { daysLeft } from './renewal-window.js';

export type CertificateStatus = 'valid' | 'due' | 'expired' | 'revoked';

export interface CertificateSummary {
  name: string;
  domains: string[];
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  status: CertificateStatus;
}

/** Every stored certificate, in one batched read of the store (Store.entries). */
export async function readAllCertificates(store: Store): Promise<CertificateRecord[]> {
  const records: CertificateRecord[] = [];
  await forEachCertificate(store, (record) => records.push(record));
  return records;
}

/**
 * Hands every stored certificate to `visit` as it is decoded, from one batched read, keeping none: what keeps only
 * a summary of each (`list`) holds a page of records at a time, not all of them.
 */
export async function forEachCertificate(store: Store, visit: (record: CertificateRecord) => void): Promise<void> {
  for await (const { key, entry } of store.entries(certificatePrefix())) visit(decodeRecord(entry.value, key));
}

/**
 * The names of the stored certificates, in key order, read from the keys alone (no record is read). A key that
 * is no valid certificate name (a store written by something else) is left out: shells expand these words.
 */
export async function certificateNames(store: Store): Promise<string[]> {
  const prefix = certificatePrefix();
  const names: string[] = [];
  for await (const key of store.list(prefix)) {
    const name = key.slice(prefix.length);
    if (isCertificateName(name)) names.push(name);
  }
  return names;
}

/** The certificate stored under `name`, or null. */
export async function findCertificate(store: Store, name: string): Promise<CertificateRecord | null> {
  const key = certificateKey(name);
  const entry = await store.get(key);
  return entry ? decodeRecord(entry.value, key) : null;
}

/** The one answer to a name the store does not hold (exit 2: the name is the user's input). */
export function unknownCertificate(name: string): UsageError {
  return new UsageError(`there is no certificate named "${name}"`, { hint: 'acmectl list shows the names' });
}

/** The certificate stored under `name`; unknownCertificate() when there is none. */
export async function readCertificate(store: Store, name: string): Promise<CertificateRecord> {
  const record = await findCertificate(store, name);
  if (!record) throw unknownCertificate(name);
  return record;
}

export function summarize(record: CertificateRecord, now: Date): CertificateSummary {
  const notAfter = new Date(record.current.notAfter);
  // The stored ARI window counts (no request: list and show work offline).
  const status: CertificateStatus = record.current.revoked ? 'revoked' : now >= notAfter ? 'expired' : recordDecision(record, now).due ? 'due' : 'valid';
  return {
    name: record.name,
    domains: record.identifiers.map((i) => i.value),
    serial: record.current.serial,
    notBefore: record.current.notBefore,
    notAfter: record.current.notAfter,
    daysLeft: daysLeft(notAfter, now),
    status,
  };
}
