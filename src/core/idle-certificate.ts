import { deployedAtLeast } from '../deploy/deployed-version.js';
import { exportDirectoryOf } from './certificate-record.js';
import type { CertificateRecord, StoredRenewalInfo } from './certificate-record.js';
import { recordDecision } from './renewal-decision.js';
import { renewalInfoWanted } from './renewal-info.js';

/** What a renew run reports of a certificate it has nothing to do for. */
export interface IdleCertificate {
  name: string;
  renewalTime: Date;
  /** The stored renewal window (ARI), still good: for the run's note on it. */
  renewalInfo: StoredRenewalInfo | undefined;
}

/**
 * The certificate when a renew run (unforced, no --days) has nothing to do for it on this host, else null: not
 * revoked or expired, its stored renewal window still good (no question to the CA), not due, and this host's files
 * at its current version. Exactly the certificates for which issueCertificate's first look would answer
 * `unchanged` without writing a file, decided as each record is read, so that a run over thousands of them keeps
 * none of their records.
 */
export function idleCertificate(record: CertificateRecord, now: Date, defaultExportDir: string): IdleCertificate | null {
  if (record.current.revoked || now >= new Date(record.current.notAfter) || renewalInfoWanted(record, now)) return null;
  const decision = recordDecision(record, now);
  if (decision.due) return null;
  if (!deployedAtLeast(exportDirectoryOf(record.settings, defaultExportDir), record.name, record.current.version)) return null;
  return { name: record.name, renewalTime: decision.renewalTime, renewalInfo: record.renewalInfo };
}
