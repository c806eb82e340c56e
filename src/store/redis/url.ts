/**
 * Parsing of `redis://` and `rediss://` store URLs (docs/cli.md#store-urls). Loaded on every CLI start, so it imports
 * nothing heavy: the client lives in ./store.ts, which open.ts imports only when a redis store is opened.
 */
import { UsageError } from '../../domain/errors.js';
import { checkKnownParameters, networkOptions, redactStoreUrl, storeSecret } from '../url-options.js';
import type { NetworkOptions, StoreOpenContext } from '../url-options.js';

/** The form every redis URL error message repeats. */
export const REDIS_URL_FORM = 'redis://[[user]:password@]host[:port][/db][?prefix=acme/] (or rediss:// for TLS)';

/** Where every acmectl key lives when the URL has no `?prefix=`. */
export const DEFAULT_REDIS_PREFIX = 'acmectl/';

/** Where the password comes from when the URL has none: the same variable every store backend reads. */
export const REDIS_PASSWORD_ENV = 'ACMECTL_STORE_PASSWORD';

const DEFAULT_PORT = 6379;
/** Redis numbers databases 0..databases-1 (16 by default, configurable); the server refuses one too high. */
const MAX_DB = 2_147_483_647;

const KNOWN_PARAMETERS = ['prefix', 'password_file', 'timeout', 'tls_verify', 'servername'] as const;

/**
 * Everything needed to open the redis store, parsed from its URL (no I/O besides reading a password file).
 * The password is a non-enumerable property: JSON, util.inspect and test diffs do not show it; print `display`.
 */
export interface RedisStoreConfig extends NetworkOptions {
  /** The URL with secrets redacted, for messages. */
  display: string;
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** `rediss://`: connect with TLS (verification per `tlsVerify`, `servername`, `caBundlePem`). */
  tls: boolean;
  /** ACL user name (Redis 6+), from the URL's user part; absent means the `default` user. */
  username?: string;
  /** From the URL's password part, else $ACMECTL_STORE_PASSWORD, else the first line of `?password_file=`. */
  password?: string;
  /** Logical database number, from the URL path (`/0` when absent). */
  db: number;
  /**
   * The namespace: every Redis key acmectl uses starts with it (`?prefix=`, default `acmectl/`; may be empty).
   * Two stores with different prefixes on one server never see each other's data, provided neither prefix
   * starts with the other one.
   */
  prefix: string;
}

/**
 * Parses the text of a redis store URL (docs/cli.md#store-urls), e.g.
 * `rediss://acme:s3cret@redis.internal:6380/2?prefix=acme/&servername=redis.internal&timeout=2000`.
 * Throws UsageError (exit 2) with the expected form for anything malformed or unknown; messages never
 * contain the password.
 */
export function parseRedisUrl(url: string, context: StoreOpenContext): RedisStoreConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The text may hold a password: say what is wrong without repeating it.
    throw usage('the redis store URL is not a valid URL');
  }
  const scheme = parsed.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') {
    throw usage(`a redis store URL starts with redis:// or rediss://, not ${scheme}:`);
  }
  const display = redactStoreUrl(url);
  if (parsed.hostname === '') throw usage(`the redis store URL ${display} names no host`);
  if (parsed.hash !== '') throw usage(`the redis store URL ${display} has a #fragment; Redis URLs take none`);

  checkKnownParameters(parsed, KNOWN_PARAMETERS, 'redis');
  const network = networkOptions(parsed, context, 'redis');
  const prefix = parsed.searchParams.get('prefix') ?? DEFAULT_REDIS_PREFIX;

  const config: RedisStoreConfig = {
    display,
    // WHATWG URL keeps the brackets of an IPv6 literal; sockets want the bare address.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? DEFAULT_PORT : portOf(parsed.port, display),
    tls: scheme === 'rediss',
    db: dbOf(parsed.pathname, display),
    prefix,
    ...network,
  };
  const username = decodeUserInfo(parsed.username, 'user name', display);
  if (username !== '') config.username = username;
  // storeSecret percent-decodes the URL password itself; a malformed escape would escape as a URIError.
  decodeUserInfo(parsed.password, 'password', display);
  const password = storeSecret(parsed, { parameter: 'password', env: REDIS_PASSWORD_ENV, fromUserInfo: true }, context);
  // Not enumerable, as every store's secrets: printing, logging or comparing the config never shows it.
  if (password !== undefined) Object.defineProperty(config, 'password', { value: password, enumerable: false });
  return config;
}

function portOf(text: string, display: string): number {
  const port = Number(text);
  if (port < 1) throw usage(`the redis store URL ${display} has port ${text}; ports run from 1 to 65535`);
  return port;
}

function dbOf(pathname: string, display: string): number {
  if (pathname === '' || pathname === '/') return 0;
  const match = /^\/(\d+)$/.exec(pathname);
  if (match === null || Number(match[1]) > MAX_DB) {
    throw usage(`the redis store URL ${display} has path "${pathname}"; the path is only the database number, e.g. /0`, {
      hint: 'the key prefix goes in ?prefix=, e.g. redis://redis.internal:6379/0?prefix=acme/',
    });
  }
  return Number(match[1]);
}

function decodeUserInfo(text: string, what: string, display: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw usage(`the ${what} in the redis store URL ${display} has a malformed %-escape`, {
      hint: 'write a literal % as %25, or pass the password in $ACMECTL_STORE_PASSWORD or ?password_file=',
    });
  }
}

function usage(message: string, options: { hint?: string } = {}): UsageError {
  return new UsageError(`${message}; expected ${REDIS_URL_FORM}`, options);
}
