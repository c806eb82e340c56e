import { REVOCATION_REASONS, revokeCertificate } from '../../core/certificate-admin.js';
import type { RevocationReason } from '../../core/certificate-admin.js';
import { checkCertificateName } from '../../core/certificate-record.js';
import { UsageError } from '../../domain/errors.js';
import { caConnector } from '../ca-connector.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import { openStoreHolding } from '../run-store.js';

export interface RevokeOptions {
  reason?: string;
  delete?: boolean;
}

export const revoke: Command<RevokeOptions> = async ({ args, options, global, reporter, signal }) => {
  const name = checkCertificateName(args[0]!);
  const reason = (options.reason ?? 'unspecified') as RevocationReason;
  if (!(reason in REVOCATION_REASONS)) throw new UsageError(`--reason ${options.reason} is not a revocation reason`, { hint: `use one of ${Object.keys(REVOCATION_REASONS).join(', ')}` });
  const ctx = await buildContext(global, {}, reporter, signal);
  const connect = caConnector(ctx);
  const store = await openStoreHolding(ctx, name);
  try {
    const record = await revokeCertificate(store, connect, name, reason, options.delete === true);
    reporter.result({ ok: true, name, serial: record.current.serial, reason, deleted: options.delete === true }, () => [
      `revoked ${name} (serial ${record.current.serial}, reason ${reason})${options.delete ? '; forgotten' : '; acmectl renew will replace it'}`,
    ]);
    return 0;
  } finally {
    await store.close();
  }
};
