import { resolveCaDirectory } from '../acme/directory-presets.js';

/**
 * The directory an order goes to: the CA's own (`server`, as stored with the certificate), or for a dry run the
 * CA's staging directory when it has one, so that testing the setup spends no production rate limit. A CA
 * without a staging directory (ZeroSSL, a private CA) is asked itself; the dry run still stores nothing.
 */
export function orderDirectory(server: string, dryRun: boolean): string {
  return dryRun ? (resolveCaDirectory(server).stagingUrl ?? server) : server;
}
