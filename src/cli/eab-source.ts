import type { ExternalAccountBinding } from '../acme/client.js';
import type { CaDirectory } from '../acme/directory-presets.js';
import { checkEabEndpoint, requestEabCredentials, ZEROSSL_EAB_ENDPOINT } from '../acme/eab-credentials.js';
import { UsageError } from '../domain/errors.js';
import type { Context } from './context.js';

/**
 * Where a registration gets EAB credentials when the CA requires them and none were given: the configured
 * eab-endpoint, or ZeroSSL's own for --server zerossl. Undefined when there is none (the CA's requirement is
 * then reported with the flags to pass). The endpoint is checked now, before anything is sent.
 */
export function eabSource(ctx: Context, directory: CaDirectory, email: string | null): (() => Promise<ExternalAccountBinding>) | undefined {
  const configured = ctx.settings.eabEndpoint;
  const endpoint = configured !== null ? checkEabEndpoint(configured) : directory.preset === 'zerossl' ? ZEROSSL_EAB_ENDPOINT : null;
  if (endpoint === null) return undefined;
  return async () => {
    if (email === null) {
      throw new UsageError(`${directory.url} requires external account binding, and ${new URL(endpoint).host} hands out credentials for an email address`, {
        hint: 'add --email you@example.com, or pass --eab-kid KID --eab-hmac-key KEY from the CA',
      });
    }
    return requestEabCredentials({ endpoint, email, timeoutMs: ctx.settings.requestTimeout * 1000, signal: ctx.signal });
  };
}
