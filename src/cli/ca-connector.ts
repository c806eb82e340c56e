import { CaClient } from '../acme/client.js';
import type { CaConnector } from '../core/issue.js';
import type { Context } from './context.js';

/** Connects to the directory with the context's trust (--ca-bundle) and timeouts. */
export function caConnector(ctx: Context, directoryUrl: string): CaConnector {
  const caBundlePem = ctx.caBundlePem();
  return (accountKeyPem, options) =>
    CaClient.connect({
      directoryUrl,
      accountKeyPem,
      ...options,
      ...(caBundlePem ? { caBundlePem } : {}),
      requestTimeoutMs: ctx.settings.requestTimeout * 1000,
    });
}
