import { readAccount, accountKey, writeAccount } from '../../core/accounts.js';
import { certificateKey, encodeRecord, exportDirectoryOf } from '../../core/certificate-record.js';
import { exportVersion } from '../../core/export-version.js';
import { recordDeployedVersion } from '../../deploy/deployed-version.js';
import type { ExportedPaths } from '../../deploy/pem-export.js';
import type { Store } from '../../store/store.js';
import type { ImportPlan, PlannedAccount } from './import-plan.js';

export type AdoptOutcome =
  /** Stored; `files` written to the export directory, or `exportError` when that failed (the next renew writes them). */
  | { name: string; outcome: 'imported'; files: ExportedPaths | null; exportError: string | null }
  | { name: string; outcome: 'failed'; error: string };

/**
 * Writes what the plan imports: each account it needs (unless the store holds it), then each certificate with
 * its history, then its files into this host's export directory (no deploy hook runs: the services still use
 * certbot's files until they are pointed at these). Every write is a create-only compare-and-set: an entry that
 * appeared since the plan was made is never overwritten.
 */
export async function adoptPlan(plan: ImportPlan, store: Store, defaultExportDir: string): Promise<AdoptOutcome[]> {
  const failedAccounts = new Map<string, string>();
  for (const [account, record] of plan.writes.accounts) {
    const error = await storeAccount(store, account, record);
    if (error) failedAccounts.set(account.url, error);
  }
  const outcomes: AdoptOutcome[] = [];
  for (const lineage of plan.lineages) {
    if (lineage.action !== 'import') continue;
    const record = plan.writes.records.get(lineage.name)!;
    const accountError = failedAccounts.get(lineage.accountUrl!);
    if (accountError) {
      outcomes.push({ name: lineage.name, outcome: 'failed', error: accountError });
      continue;
    }
    const written = await store.put(certificateKey(record.name), encodeRecord(record), { ifAbsent: true });
    if (!written.ok) {
      outcomes.push({ name: lineage.name, outcome: 'failed', error: `another process stored a certificate named ${record.name} meanwhile; it was left as it is` });
      continue;
    }
    const outDir = exportDirectoryOf(record.settings, defaultExportDir);
    try {
      const files = await exportVersion(record, record.current, { outDir, formats: record.settings.formats, pkcs12Password: () => '' });
      await recordDeployedVersion(outDir, record.name, record.current.version);
      outcomes.push({ name: lineage.name, outcome: 'imported', files, exportError: null });
    } catch (error) {
      outcomes.push({ name: lineage.name, outcome: 'imported', files: null, exportError: (error as Error).message });
    }
  }
  return outcomes;
}

/** Stores the account unless an account with its URL is there already; the reason when neither. */
async function storeAccount(store: Store, account: PlannedAccount, record: Parameters<typeof writeAccount>[2]): Promise<string | null> {
  const key = accountKey(account.directoryUrl, account.email);
  if ((await writeAccount(store, key, record, { ifAbsent: true })) !== null) return null;
  const theirs = await readAccount(store, key);
  if (theirs?.url === account.url) return null;
  return `another process stored an account for ${account.directoryUrl} (${theirs?.url ?? 'unknown'}) meanwhile; certbot's ${account.url} was not stored`;
}
