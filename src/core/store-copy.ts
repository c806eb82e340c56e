import { accountPrefix } from './accounts.js';
import { certificatePrefix } from './certificate-record.js';
import type { Store } from '../store/store.js';

export interface CopyReport {
  copied: string[];
  /** Already in the destination with the same bytes. */
  unchanged: string[];
  /** In the destination with other content: not overwritten unless asked. */
  conflicts: string[];
}

/**
 * Copies accounts and certificates (with their history and renewal settings) from one store to another, e.g.
 * from the local SQLite file to Redis when a second server arrives. Challenge tokens (short-lived) and locks
 * (each store's own) are not copied. Idempotent: running it again copies nothing new. An entry that exists in
 * the destination with other content is a conflict, left alone unless `overwrite`.
 */
export async function copyStore(from: Store, to: Store, options: { overwrite: boolean }): Promise<CopyReport> {
  const report: CopyReport = { copied: [], unchanged: [], conflicts: [] };
  for (const prefix of [accountPrefix(), certificatePrefix()]) {
    for await (const key of from.list(prefix)) {
      const source = await from.get(key);
      if (!source) continue; // deleted or expired while copying
      const existing = await to.get(key);
      if (existing && Buffer.from(existing.value).equals(Buffer.from(source.value))) {
        report.unchanged.push(key);
        continue;
      }
      if (existing && !options.overwrite) {
        report.conflicts.push(key);
        continue;
      }
      const written = await to.put(key, source.value, existing ? { ifRev: existing.rev } : { ifAbsent: true });
      (written.ok ? report.copied : report.conflicts).push(key);
    }
  }
  return report;
}
