/**
 * Store URLs → Store. `parseStoreUrl` is pure validation the CLI runs before touching anything (a bad URL is
 * exit 2); `openStore` loads only the backend the URL names, so `acmectl --help` never loads better-sqlite3.
 */
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../domain/errors.js';
import { parseConsulUrl } from './consul-url.js';
import type { ConsulStoreConfig } from './consul-url.js';
import { parseEtcdUrl } from './etcd-url.js';
import type { EtcdStoreConfig } from './etcd-url.js';
import { parseRedisUrl } from './redis-url.js';
import type { RedisStoreConfig } from './redis-url.js';
import type { Store } from './store.js';
import type { StoreOpenContext } from './url-options.js';
import { parseVaultUrl } from './vault-url.js';
import type { VaultStoreConfig } from './vault-url.js';

export type StoreUrl =
  /** `path` is absolute. */
  | { kind: 'sqlite'; path: string }
  | { kind: 'memory' }
  | { kind: 'redis'; config: RedisStoreConfig }
  | { kind: 'etcd'; config: EtcdStoreConfig }
  | { kind: 'consul'; config: ConsulStoreConfig }
  | { kind: 'vault'; config: VaultStoreConfig };

/** Where relative paths and `~` are resolved (defaults: the process's); where secrets and trust come from. */
export interface StoreUrlContext extends StoreOpenContext {
  cwd?: string;
  homeDir?: string;
}

const ACCEPTED_FORMS = 'sqlite:PATH, redis://, rediss://, etcd://, consul://, consul+https://, vault://, vault+https://, memory:';
const ACCEPTED_FORMS_HINT = 'e.g. --store sqlite:/var/lib/acmectl/acmectl.db or --store redis://redis.internal:6379/0?prefix=acme/';

/** Network backends by URL scheme: each parses its own URL text (etcd's may list several hosts). */
const NETWORK_BACKENDS: Readonly<Record<string, (url: string, context: StoreUrlContext) => StoreUrl>> = {
  redis: (url, context) => ({ kind: 'redis', config: parseRedisUrl(url, context) }),
  rediss: (url, context) => ({ kind: 'redis', config: parseRedisUrl(url, context) }),
  etcd: (url, context) => ({ kind: 'etcd', config: parseEtcdUrl(url, context) }),
  'etcd+https': (url, context) => ({ kind: 'etcd', config: parseEtcdUrl(url, context) }),
  consul: (url, context) => ({ kind: 'consul', config: parseConsulUrl(url, context) }),
  'consul+https': (url, context) => ({ kind: 'consul', config: parseConsulUrl(url, context) }),
  vault: (url, context) => ({ kind: 'vault', config: parseVaultUrl(url, context) }),
  'vault+https': (url, context) => ({ kind: 'vault', config: parseVaultUrl(url, context) }),
};

/**
 * Parses and validates a store URL without touching the file system or the network. Accepted forms:
 * - `sqlite:PATH` — PATH relative to `cwd`, absolute (`sqlite:/abs`, `sqlite:///abs`), or `~/...`. The rest
 *   of the URL is the path, literally: no percent-decoding, no query parameters.
 * - `memory:` — a fresh in-process store.
 * Throws UsageError (exit 2) for anything else; the message never repeats the URL past its scheme, since
 * URLs of other backends carry passwords and tokens.
 */
export function parseStoreUrl(url: string, context: StoreUrlContext = {}): StoreUrl {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new UsageError(
      url.trim() === ''
        ? `the store URL is empty; accepted forms: ${ACCEPTED_FORMS}`
        : `the store URL has no scheme; accepted forms: ${ACCEPTED_FORMS}`,
      { hint: looksLikePath(url) ? 'for a SQLite file, write sqlite: before the path' : ACCEPTED_FORMS_HINT },
    );
  }
  const rest = url.slice(scheme.length + 1);

  if (scheme === 'memory') {
    if (rest !== '' && rest !== '//') {
      throw new UsageError('the memory: store URL takes nothing after "memory:"', { hint: ACCEPTED_FORMS_HINT });
    }
    return { kind: 'memory' };
  }

  if (scheme === 'sqlite') {
    return { kind: 'sqlite', path: sqlitePath(rest, context) };
  }

  const network = NETWORK_BACKENDS[scheme];
  if (network !== undefined) return network(url, context);
  throw new UsageError(`unknown store URL scheme "${scheme}:"; accepted forms: ${ACCEPTED_FORMS}`, {
    hint: ACCEPTED_FORMS_HINT,
  });
}

/**
 * Opens the store a URL names, creating a SQLite file (and its directory) if missing. Throws UsageError for a
 * bad URL and OperationError (exit 1, naming the path, with the cause) when the store cannot be opened.
 * The caller owns the store and must close() it.
 */
export async function openStore(url: string, context: StoreUrlContext = {}): Promise<Store> {
  return openParsedStore(parseStoreUrl(url, context));
}

/**
 * Opens a URL parseStoreUrl has already checked, so that a command parses its store URL (and reads its secret
 * files) once. `trust.caBundlePem` is the global --ca-bundle when it is read only now, after the URL was
 * parsed: the store's TLS connections trust it as if it had been given to parseStoreUrl (a backend uses it
 * only over TLS).
 */
export async function openParsedStore(parsed: StoreUrl, trust: { caBundlePem?: string } = {}): Promise<Store> {
  switch (parsed.kind) {
    case 'sqlite': {
      // Imported here, not at the top: loading better-sqlite3 (a native addon) only when it is used.
      const { SqliteStore } = await import('./sqlite.js');
      return SqliteStore.open(parsed.path);
    }
    case 'memory': {
      const { MemoryStore } = await import('./memory.js');
      return new MemoryStore();
    }
    case 'redis':
      return (await import('./redis.js')).openRedisStore(trusting(parsed.config, trust));
    case 'etcd':
      return (await import('./etcd.js')).openEtcdStore(trusting(parsed.config, trust));
    case 'consul':
      return (await import('./consul.js')).openConsulStore(trusting(parsed.config, trust));
    case 'vault':
      return (await import('./vault.js')).openVaultStore(trusting(parsed.config, trust));
  }
}

/**
 * The config with the extra trusted certificates. A copy with every property descriptor, since some backends
 * keep their secret as a non-enumerable property (so that it never shows in a logged or inspected config).
 */
function trusting<Config extends { caBundlePem?: string }>(config: Config, trust: { caBundlePem?: string }): Config {
  if (trust.caBundlePem === undefined) return config;
  const copy = Object.create(Object.getPrototypeOf(config), Object.getOwnPropertyDescriptors(config)) as Config;
  copy.caBundlePem = trust.caBundlePem;
  return copy;
}

function sqlitePath(rest: string, context: StoreUrlContext): string {
  let path = rest;
  if (path.startsWith('//')) {
    // sqlite:///abs/path (empty authority). Anything with a host is a mistake: SQLite files are local.
    if (!path.startsWith('///')) {
      throw new UsageError('a sqlite: store URL cannot name a host; SQLite files are local', {
        hint: 'write sqlite:/absolute/path or sqlite:relative/path',
      });
    }
    path = path.slice(2);
  }
  if (path === '') {
    throw new UsageError('the sqlite: store URL needs a file path (sqlite:PATH)', { hint: ACCEPTED_FORMS_HINT });
  }
  if (path.includes('\0')) {
    throw new UsageError('the sqlite: store path must not contain a NUL character');
  }
  if (path.endsWith('/')) {
    throw new UsageError('the sqlite: store path names a directory; give a file name, e.g. sqlite:DIR/acmectl.db');
  }
  // The shell does not expand ~ in the middle of a word (--store sqlite:~/x.db), so we do.
  if (path === '~' || path.startsWith('~/')) {
    path = resolve(context.homeDir ?? homedir(), `.${path.slice(1)}`);
  }
  return isAbsolute(path) ? resolve(path) : resolve(context.cwd ?? process.cwd(), path);
}

function looksLikePath(value: string): boolean {
  return /^[./~]/.test(value) || /\.(db|sqlite3?)$/i.test(value);
}
