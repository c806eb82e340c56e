/**
 * Parsing of etcd store URLs (docs/cli.md#store-urls). Loaded on every CLI start, so it imports nothing heavy: the client
 * lives in ./etcd.ts, which open.ts imports only when an etcd store is actually opened.
 *
 *   etcd://[user[:password]@]host[:port][,host2[:port]...][/prefix][?timeout=&username=&password_file=]
 *   etcd+https://...same...[&tls_verify=false&servername=etcd.internal]
 *
 * The URL text is parsed by hand because it may list several hosts, which WHATWG URL cannot parse.
 */
import { UsageError } from '../domain/errors.js';
import {
  checkKnownParameters,
  networkOptions,
  redactStoreUrl,
  storeSecret,
  type NetworkOptions,
  type StoreOpenContext,
} from './url-options.js';

/** Everything needed to open the etcd store, parsed from its URL (no I/O besides reading secret files). */
export interface EtcdStoreConfig extends NetworkOptions {
  /** The URL with secrets redacted, for messages. */
  display: string;
  /** Base URLs of the cluster members to try, in order: `http://127.0.0.1:2379` or `https://...`. */
  endpoints: string[];
  /** Every key lives under this prefix; it ends with '/'. Default `acmectl/`. */
  prefix: string;
  /**
   * etcd user for authentication (etcd's `auth enable`); absent when the cluster has auth disabled.
   * Its `password` is a non-enumerable property, so logging or serialising the config never shows it.
   */
  credentials?: EtcdCredentials;
}

export interface EtcdCredentials {
  readonly username: string;
  readonly password: string;
}

/** The environment variable that can carry the etcd password (also used by the other stores). */
export const ETCD_PASSWORD_ENV = 'ACMECTL_STORE_PASSWORD';
export const ETCD_DEFAULT_PORT = 2379;
export const ETCD_DEFAULT_PREFIX = 'acmectl/';

const KNOWN_PARAMETERS = ['timeout', 'tls_verify', 'servername', 'username', 'password_file'] as const;
const EXPECTED_FORM = 'etcd://[user[:password]@]host:2379[,host2:2379]/prefix?timeout=MS (or etcd+https://...)';
const WHAT = 'etcd';

/**
 * Parses the text of an etcd store URL (docs/cli.md#store-urls). Throws UsageError (exit 2) with the expected form; the
 * message never repeats the URL's userinfo (it may carry a password).
 */
export function parseEtcdUrl(url: string, context: StoreOpenContext): EtcdStoreConfig {
  const match = /^(etcd|etcd\+https):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(url);
  if (match === null) throw usage('the etcd store URL is malformed');
  const scheme = match[1]!.toLowerCase();
  const authority = match[2]!;
  const path = match[3]!;
  const query = match[4] ?? '';
  if (match[5] !== undefined) throw usage('the etcd store URL must not have a #fragment');

  // userinfo ends at the LAST '@' of the authority: a password may contain '@'.
  const at = authority.lastIndexOf('@');
  const userInfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostList = at >= 0 ? authority.slice(at + 1) : authority;
  if (hostList === '') throw usage('the etcd store URL names no host');

  const tls = scheme === 'etcd+https';
  const hosts = hostList.split(',').map((host) => parseHost(host));
  const endpoints = hosts.map((host) => `${tls ? 'https' : 'http'}://${host}`);

  // The WHATWG parser handles the userinfo, path and query of one host just fine; hand it the first.
  let single: URL;
  try {
    single = new URL(`${scheme}://${userInfo === undefined ? '' : `${userInfo}@`}${hosts[0]}${path}${query}`);
  } catch {
    throw usage('the etcd store URL is malformed');
  }
  checkKnownParameters(single, KNOWN_PARAMETERS, WHAT);
  const network = networkOptions(single, context, WHAT);

  const credentials = parseCredentials(single, context);
  const config: EtcdStoreConfig = {
    ...network,
    display: displayOf(scheme, hosts, path, single),
    endpoints,
    prefix: parsePrefix(path),
  };
  if (!tls && (single.searchParams.has('tls_verify') || single.searchParams.has('servername'))) {
    throw usage('tls_verify and servername only apply to etcd+https:// URLs');
  }
  if (credentials !== undefined) config.credentials = credentials;
  return config;
}

/** `host`, `host:port` or `[v6]:port` → `host:port` with the default port filled in. */
function parseHost(text: string): string {
  if (text === '') throw usage('the etcd store URL has an empty host in its host list');
  let parsed: URL;
  try {
    parsed = new URL(`http://${text}`);
  } catch {
    throw usage(`the etcd store URL has an invalid host "${text}"`);
  }
  // The host list cannot hold '/', '?', '#' or '@' (they end the authority or belong to the userinfo),
  // so WHATWG is left to check the host and port themselves (and to normalise IPv6 and IDNs).
  const port = parsed.port === '' ? ETCD_DEFAULT_PORT : Number(parsed.port);
  return `${parsed.hostname}:${port}`;
}

/** `/a/b` → `a/b/`; nothing or `/` → the default. Segments are percent-decoded and checked like key segments. */
function parsePrefix(path: string): string {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return ETCD_DEFAULT_PREFIX;
  const segments = trimmed.split('/').map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw usage(`the etcd key prefix has an invalid percent-escape in "${segment}"`);
    }
    if (decoded === '' || decoded === '.' || decoded === '..' || /[\u0000-\u001f\u007f]/.test(decoded)) {
      throw usage(`the etcd key prefix has an invalid segment ${JSON.stringify(decoded)}`);
    }
    return decoded;
  });
  return `${segments.join('/')}/`;
}

/**
 * The user from the userinfo or `?username=`, the password from the userinfo, ACMECTL_STORE_PASSWORD or
 * `?password_file=`. The password is only looked up when there is a user: the environment variable is
 * shared with other stores, and etcd without auth needs none.
 */
function parseCredentials(url: URL, context: StoreOpenContext): EtcdCredentials | undefined {
  const fromUserInfo = decodeComponent(url.username, 'user name');
  const fromQuery = url.searchParams.get('username') ?? '';
  if (fromUserInfo !== '' && fromQuery !== '' && fromUserInfo !== fromQuery) {
    throw usage('the etcd store URL names two different users (in front of the host and in ?username=)');
  }
  const username = fromUserInfo || fromQuery;
  if (username === '') {
    if (url.password !== '' || url.searchParams.has('password_file')) {
      throw usage('the etcd store URL has a password but no user name', 'write etcd://USER:PASSWORD@host:2379/ or add ?username=USER');
    }
    return undefined;
  }
  decodeComponent(url.password, 'password');
  const password = storeSecret(url, { parameter: 'password', env: ETCD_PASSWORD_ENV, fromUserInfo: true }, context);
  if (password === undefined || password === '') {
    throw usage(
      `the etcd store URL names the user "${username}" but no password`,
      `put it in ${ETCD_PASSWORD_ENV}, in a file named by ?password_file=FILE, or in the URL (etcd://USER:PASSWORD@host)`,
    );
  }
  const credentials = { username } as EtcdCredentials;
  Object.defineProperty(credentials, 'password', { value: password, enumerable: false });
  return credentials;
}

function decodeComponent(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw usage(`the etcd store URL has an invalid percent-escape in its ${what}`);
  }
}

/** The URL as the user wrote it (every host), with the password replaced by "***". */
function displayOf(scheme: string, hosts: string[], path: string, url: URL): string {
  const user = url.username === '' ? '' : `${url.username}${url.password === '' ? '' : ':***'}@`;
  // Built from parsed parts rather than the raw text, so no spelling of the userinfo can leak through;
  // redactStoreUrl then hides any secret query parameter the shared helpers know of.
  return redactStoreUrl(`${scheme}://${user}${hosts.join(',')}${path}${url.search}`);
}

function usage(message: string, hint = `expected ${EXPECTED_FORM}`): UsageError {
  return new UsageError(message, { hint });
}
