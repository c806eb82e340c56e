import { createHash } from 'node:crypto';
import { CaClient } from '../acme/client.js';
import type { CaConnector } from '../core/issue-request.js';
import type { Context } from './context.js';

/**
 * Connects to CA directories with the trust of --ca-bundle (else the bundle stored with the certificate or
 * account) and the context's timeouts. Within one command the
 * client of a known account is made once and shared (one directory fetch, one keep-alive pool), however
 * many certificates the run renews.
 */
export function caConnector(ctx: Context): CaConnector {
  const givenBundlePem = ctx.caBundlePem();
  const clients = new Map<string, Promise<CaClient>>();
  return (directoryUrl, accountKeyPem, options) => {
    // A bundle given now (flag, environment, config) wins over the one stored with the certificate or account.
    const caBundlePem = givenBundlePem ?? options.caBundlePem ?? undefined;
    const open = (): Promise<CaClient> =>
      CaClient.connect({
        directoryUrl,
        accountKeyPem,
        ...(options.accountUrl ? { accountUrl: options.accountUrl } : {}),
        ...(options.eab ? { eab: options.eab } : {}),
        ...(caBundlePem ? { caBundlePem } : {}),
        requestTimeoutMs: ctx.settings.requestTimeout * 1000,
        signal: ctx.signal,
      });
    if (!options.accountUrl) return open(); // a registration: nothing to share yet
    // The key is part of the identity: after a key change (account rollover) the same account URL is reached
    // with another key, and a client still signing with the old one must not be handed out.
    const key = `${directoryUrl}\n${options.accountUrl}\n${createHash('sha256').update(accountKeyPem).digest('hex')}`;
    let client = clients.get(key);
    if (!client) {
      client = open();
      clients.set(key, client);
      client.catch(() => clients.delete(key)); // a failed connection is not cached
    }
    return client;
  };
}
