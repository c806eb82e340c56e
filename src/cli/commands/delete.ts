import { deleteCertificate } from '../../core/certificate-admin.js';
import { resolve } from 'node:path';
import { checkCertificateName, exportDirectoryOf } from '../../core/certificate-record.js';
import type { CertificateRecord } from '../../core/certificate-record.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import { openStoreHolding } from '../run-store.js';

export interface DeleteOptions {
  files?: boolean;
}

export const deleteCommand: Command<DeleteOptions> = async ({ args, options, global, reporter, signal }) => {
  const name = checkCertificateName(args[0]!);
  const ctx = await buildContext(global, {}, reporter, signal);
  const store = await openStoreHolding(ctx, name);
  try {
    const outOf = (record: CertificateRecord): string => exportDirectoryOf(record.settings, resolve(ctx.exportDir));
    const { record, removed } = await deleteCertificate(store, name, options.files ? outOf : null);
    const out = outOf(record);
    reporter.result({ ok: true, name, removedFiles: removed }, () => [
      `deleted ${name} from the store${options.files ? `; removed its files under ${out}` : `; its files under ${out}/${name}/ stay (--files removes them)`}`,
    ]);
    return 0;
  } finally {
    await store.close();
  }
};
