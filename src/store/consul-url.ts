/**
 * Parsing of consul store URLs (docs/cli.md#store-urls). Kept apart from the client (./consul.ts) and free of heavy imports,
 * so `parseStoreUrl` can validate a URL (exit 2) without loading any network code.
 *
 *   consul://HOST:8500/KV/PATH/?token=...&timeout=2000&dc=eu-west
 *   consul+https://HOST:8501/KV/PATH/?token_file=/etc/acmectl/consul-token&tls_verify=false&servername=consul.internal
 *
 * Kong's consul options map to: host and port → the authority (empty host: 127.0.0.1, the local agent), kv_path →
 * the path (default `acmectl/`), token → `?token=` / `ACMECTL_STORE_TOKEN` / `?token_file=`, https →
 * the `consul+https` scheme, timeout → `?timeout=` (milliseconds). `--ca-bundle`, `tls_verify` and `servername`
 * apply to consul+https only; `dc` picks another datacenter than the agent's own.
 */
import { UsageError } from '../domain/errors.js';
import { checkKnownParameters, networkOptions, redactStoreUrl, storeSecret } from './url-options.js';
import type { NetworkOptions, StoreOpenContext } from './url-options.js';

/** Everything needed to open the consul store, parsed from its URL (no I/O besides reading secret files). */
export interface ConsulStoreConfig extends NetworkOptions {
  /** The URL with secrets redacted, for messages. */
  display: string;
  /** `https` for consul+https://. */
  protocol: 'http' | 'https';
  /** Host name or IP address, IPv6 without brackets. */
  host: string;
  port: number;
  /** The KV path every acmectl record lives under, ending in '/' (Kong: kv_path). Default `acmectl/`. */
  kvPath: string;
  /** Datacenter to address (`?dc=`); undefined: the agent's own. */
  datacenter?: string;
  /**
   * ACL token, sent only in the X-Consul-Token header. Not enumerable, so printing, logging or comparing the
   * config (`config show`, a failed test's diff) never shows it.
   */
  readonly token?: string;
}

export const DEFAULT_CONSUL_KV_PATH = 'acmectl/';
export const CONSUL_TOKEN_ENV = 'ACMECTL_STORE_TOKEN';

const DEFAULT_PORT = { http: 8500, https: 8501 } as const;
const KNOWN_PARAMETERS = ['token', 'token_file', 'timeout', 'dc', 'tls_verify', 'servername'] as const;
const TLS_PARAMETERS = ['tls_verify', 'servername'] as const;
const EXPECTED_FORM = 'consul://HOST:8500/KV/PATH/?token_file=FILE (or consul+https://...)';
// Consul datacenter names: letters, digits, '-', '_' and '.'.
const DATACENTER = /^[A-Za-z0-9_.-]{1,64}$/;
// An HTTP header value carries visible ASCII only; Consul tokens are UUIDs.
const HEADER_SAFE = /^[\x21-\x7e]+$/;
// U+0000–U+001F and U+007F: never part of a KV path.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Parses the text of a consul store URL (docs/cli.md#store-urls). Throws UsageError (exit 2) with the expected form. */
export function parseConsulUrl(url: string, context: StoreOpenContext): ConsulStoreConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not the parser's error as cause: it carries the whole input, token included.
    throw new UsageError('consul store URL: not a valid URL (check the host, the port and the percent-encoding)', { hint: `expected ${EXPECTED_FORM}` });
  }
  const protocol = parsed.protocol === 'consul+https:' ? 'https' : 'http';
  if (parsed.username !== '' || parsed.password !== '') {
    throw new UsageError('consul store URL: Consul takes no user name or password in the URL', {
      hint: `give the ACL token with ?token_file=FILE or ${CONSUL_TOKEN_ENV}`,
    });
  }
  if (parsed.hash !== '') {
    throw new UsageError('consul store URL: unexpected "#..." part; percent-encode a "#" inside a value as %23');
  }
  checkKnownParameters(parsed, KNOWN_PARAMETERS, 'consul');
  if (protocol === 'http') {
    for (const name of TLS_PARAMETERS) {
      if (parsed.searchParams.has(name)) {
        throw new UsageError(`consul store URL: ${name} applies to consul+https:// only`, { hint: 'write consul+https:// to talk to Consul over TLS' });
      }
    }
  }

  // --ca-bundle is global (it also serves the CA): it matters here only over TLS.
  const { caBundlePem, ...network } = networkOptions(parsed, context, 'consul');
  const datacenter = parsed.searchParams.get('dc') ?? undefined;
  if (datacenter !== undefined && !DATACENTER.test(datacenter)) {
    throw new UsageError(`consul store URL: dc must be a datacenter name (letters, digits, "-", "_", "."), got ${JSON.stringify(datacenter)}`);
  }
  const token = consulToken(parsed, context);
  const config: ConsulStoreConfig = {
    display: redactStoreUrl(url),
    protocol,
    host: hostOf(parsed),
    port: portOf(parsed, protocol),
    kvPath: kvPathOf(parsed.pathname),
    ...network,
    ...(protocol === 'https' && caBundlePem !== undefined ? { caBundlePem } : {}),
    ...(datacenter !== undefined ? { datacenter } : {}),
  };
  if (token !== undefined) Object.defineProperty(config, 'token', { value: token, enumerable: false });
  return config;
}

function consulToken(url: URL, context: StoreOpenContext): string | undefined {
  const token = storeSecret(url, { parameter: 'token', env: CONSUL_TOKEN_ENV }, context);
  if (token === undefined) return undefined;
  // storeSecret skips empty URL and environment values, so an empty token can only come from the file.
  if (token === '') throw new UsageError('consul store URL: the token_file is empty');
  if (!HEADER_SAFE.test(token)) {
    throw new UsageError('consul store URL: the Consul token contains characters an HTTP header cannot carry (spaces, line breaks, non-ASCII)');
  }
  return token;
}

function hostOf(url: URL): string {
  if (url.hostname === '') return '127.0.0.1';
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function portOf(url: URL, protocol: 'http' | 'https'): number {
  if (url.port === '') return DEFAULT_PORT[protocol];
  const port = Number(url.port);
  if (port < 1 || port > 65_535) throw new UsageError(`consul store URL: the port must be from 1 to 65535, got ${url.port}`);
  return port;
}

/** The URL path as a KV path ending in '/': '/kv/acme' → 'kv/acme/'; '' or '/' → the default. */
function kvPathOf(pathname: string): string {
  const trimmed = pathname.replace(/^\//, '').replace(/\/$/, '');
  if (trimmed === '') return DEFAULT_CONSUL_KV_PATH;
  const segments = trimmed.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new UsageError(`consul store URL: the KV path has a broken percent-encoding: ${JSON.stringify(segment)}`);
    }
  });
  for (const segment of segments) {
    if (segment === '') throw new UsageError('consul store URL: the KV path has an empty segment ("//")');
    if (CONTROL_CHARACTER.test(segment) || segment.includes('/')) {
      throw new UsageError(`consul store URL: the KV path segment ${JSON.stringify(segment)} contains a control character or an encoded "/"`);
    }
  }
  return `${segments.join('/')}/`;
}
