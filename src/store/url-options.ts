import { readFileSync } from 'node:fs';
import { UsageError } from '../domain/errors.js';
import { visibleText } from '../domain/visible-text.js';

/**
 * Options every network store takes from its URL's query (docs/cli.md#store-urls), e.g.
 * `?timeout=2000&tls_verify=false&servername=redis.internal`. Each backend's parser uses these helpers so
 * that the same parameter means the same thing everywhere and secrets are found and hidden the same way.
 */
export interface NetworkOptions {
  /** Milliseconds one request may take: `?timeout=`. Default 5000. */
  timeoutMs: number;
  /** Verify the server's TLS certificate: `?tls_verify=false` turns it off. Default true. */
  tlsVerify: boolean;
  /** TLS server name to expect when it differs from the host: `?servername=`. */
  servername?: string;
  /** Extra trusted CA certificates (PEM): the global --ca-bundle. */
  caBundlePem?: string;
}

export interface StoreOpenContext {
  env?: NodeJS.ProcessEnv;
  caBundlePem?: string;
}

/** Query parameters whose values are secrets: redacted in every message, never printed. */
export const SECRET_PARAMETERS = ['password', 'token', 'secret_id', 'secret'] as const;

export function networkOptions(url: URL, context: StoreOpenContext, what: string): NetworkOptions {
  const timeout = url.searchParams.get('timeout');
  const tlsVerify = url.searchParams.get('tls_verify');
  const servername = url.searchParams.get('servername');
  let timeoutMs = 5000;
  if (timeout !== null) {
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1 || Number(timeout) > 600_000) {
      throw new UsageError(`${what} store URL: timeout must be milliseconds from 1 to 600000, got "${visibleText(timeout, 100)}"`);
    }
    timeoutMs = Number(timeout);
  }
  if (tlsVerify !== null && !['true', 'false', '1', '0'].includes(tlsVerify)) {
    throw new UsageError(`${what} store URL: tls_verify must be true or false, got "${visibleText(tlsVerify, 100)}"`);
  }
  return {
    timeoutMs,
    tlsVerify: tlsVerify === null || tlsVerify === 'true' || tlsVerify === '1',
    ...(servername ? { servername } : {}),
    ...(context.caBundlePem ? { caBundlePem: context.caBundlePem } : {}),
  };
}

/**
 * A secret for a store, from (first found) the URL (`?token=` or the password part), an environment variable,
 * or a file named by `?<name>_file=` (first line). Keeping secrets out of URLs keeps them out of shell history
 * and process lists. Never echoes the secret.
 */
export function storeSecret(url: URL, spec: { parameter: string; env: string; fromUserInfo?: boolean }, context: StoreOpenContext): string | undefined {
  let inUrl: string | null;
  try {
    inUrl = spec.fromUserInfo ? decodeURIComponent(url.password) : url.searchParams.get(spec.parameter);
  } catch {
    throw new UsageError('store URL: the password has a malformed %-escape', { hint: 'write "%" as %25 in a URL' });
  }
  if (inUrl) return inUrl;
  const fromEnv = (context.env ?? process.env)[spec.env];
  if (fromEnv) return fromEnv;
  const file = url.searchParams.get(`${spec.parameter}_file`);
  if (file === null) return undefined;
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0]!.replace(/^\uFEFF/, '');
  } catch (error) {
    throw new UsageError(`store URL: ${spec.parameter}_file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The URL with its password and secret query parameters replaced by "***", for messages and `config show`. */
function looksSecret(parameter: string): boolean {
  const name = parameter.toLowerCase().replace(/[^a-z_]/g, '');
  return !name.endsWith('_file') && SECRET_PARAMETERS.some((secret) => name.includes(secret));
}

export function redactStoreUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not a WHATWG URL (etcd lists several hosts): the password runs to the LAST '@' before the path.
    return text.replace(/#.*$/, '').replace(/\/\/([^:@/]*):[^/]*@/, '//$1:***@');
  }
  if (url.password) url.password = '***';
  url.hash = ''; // a '#' inside an unescaped secret would otherwise show its tail as a fragment
  // Also a mistyped name (`??token=`, `Token=`, ` password=`): it is refused as unknown, in a message that shows it.
  for (const name of new Set(url.searchParams.keys())) if (looksSecret(name)) url.searchParams.set(name, '***');
  return url.toString().replace(/%2A%2A%2A/g, '***');
}

/** Rejects query parameters the backend does not know, so a typo (`?tls_verfy=false`) is not silently ignored. */
export function checkKnownParameters(url: URL, known: readonly string[], what: string): void {
  for (const name of url.searchParams.keys()) {
    if (!known.includes(name)) throw new UsageError(`${what} store URL: unknown parameter "${visibleText(name, 100)}"`, { hint: `known: ${known.join(', ')}` });
  }
}
