/**
 * `vault://` and `vault+https://` store URLs (docs/cli.md#store-urls) → VaultStoreConfig. Pure apart from reading secret files
 * the URL names (`?token_file=`, `?secret_id_file=`), and free of anything heavy: the client is in ./store.ts,
 * imported only when the store is opened.
 *
 *   vault[+https]://HOST[:PORT]/[MOUNT[/PATH/PREFIX]][?PARAMETERS]
 *
 * MOUNT is the KV version 2 secrets engine (default `secret`; a nested mount is written with %2F, e.g.
 * `team%2Fkv`), PATH/PREFIX where acmectl keeps its data inside it (default `acmectl/`). Parameters, with the
 * Kong ACME plugin's vault options they correspond to:
 *   token (token), token_file, env ACMECTL_STORE_TOKEN     the Vault token, for auth=token (the default)
 *   auth=token|approle|kubernetes (auth_method)            how acmectl gets its token
 *   auth_mount (auth_path)                                 mount of the auth method (default approle / kubernetes)
 *   role (auth_role)                                       the Kubernetes auth role
 *   jwt_file (jwt_path)                                    the service account JWT, read when the store is opened
 *   role_id, secret_id, secret_id_file, env ACMECTL_STORE_SECRET_ID   the AppRole credentials
 *   namespace                                              Vault Enterprise namespace (X-Vault-Namespace)
 *   timeout, tls_verify, servername (tls_server_name)      see url-options.ts; host, port, https, kv_path: the URL
 */
import { UsageError } from '../../domain/errors.js';
import { visibleText } from '../../domain/visible-text.js';
import { checkKnownParameters, networkOptions, redactStoreUrl, storeSecret } from '../url-options.js';
import type { NetworkOptions, StoreOpenContext } from '../url-options.js';

export const VAULT_DEFAULT_PORT = 8200;
export const VAULT_DEFAULT_MOUNT = 'secret';
export const VAULT_DEFAULT_PATH_PREFIX = 'acmectl/';
export const VAULT_DEFAULT_APPROLE_MOUNT = 'approle';
export const VAULT_DEFAULT_KUBERNETES_MOUNT = 'kubernetes';
/** Where Kubernetes mounts a pod's service account token. */
export const VAULT_DEFAULT_JWT_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * A secret that turns into "***" however it is printed (String(), JSON, util.inspect, a test diff), so a
 * config object that ends up in a log or an error cannot leak it. `reveal()` is for the one place that sends it.
 */
export class SecretText {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '***';
  }

  toJSON(): string {
    return '***';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'SecretText(***)';
  }
}

/** How acmectl obtains the Vault token it sends with every request. */
export type VaultAuth =
  /** A token given by the user, used as is (never renewed or revoked by acmectl). */
  | { method: 'token'; token: SecretText }
  /** POST auth/<mount>/login {role_id, secret_id} when the store is opened. */
  | { method: 'approle'; mount: string; roleId: string; secretId: SecretText }
  /** POST auth/<mount>/login {role, jwt} with the JWT read from `jwtFile` when the store is opened. */
  | { method: 'kubernetes'; mount: string; role: string; jwtFile: string };

/** Everything needed to open the vault store, parsed from its URL (no I/O besides reading secret files). */
export interface VaultStoreConfig extends NetworkOptions {
  /** The URL with secrets redacted, for messages. */
  display: string;
  /** `https:` for vault+https://, else `http:`. */
  protocol: 'http:' | 'https:';
  /** Host name or IP address (an IPv6 address without brackets). */
  host: string;
  port: number;
  /** Path of the KV version 2 secrets engine, without slashes at either end: `secret`, `team/kv`. */
  mount: string;
  /** Where acmectl's data lives inside the mount: relative, ends with '/', e.g. `acmectl/`. */
  pathPrefix: string;
  /** Vault Enterprise namespace, sent as X-Vault-Namespace on every request, logins included. */
  namespace?: string;
  auth: VaultAuth;
}

const KNOWN_PARAMETERS = [
  'token',
  'token_file',
  'auth',
  'auth_mount',
  'role',
  'jwt_file',
  'role_id',
  'secret_id',
  'secret_id_file',
  'namespace',
  'timeout',
  'tls_verify',
  'servername',
] as const;

const AUTH_METHODS = ['token', 'approle', 'kubernetes'] as const;

/** Parameters that belong to one auth method only; giving them with another is almost certainly a mistake. */
const PARAMETERS_OF: Record<VaultAuth['method'], readonly string[]> = {
  token: ['token', 'token_file'],
  approle: ['auth_mount', 'role_id', 'secret_id', 'secret_id_file'],
  kubernetes: ['auth_mount', 'role', 'jwt_file'],
};

const FORM = 'vault[+https]://HOST[:PORT]/MOUNT/PATH?token=... (or ?auth=approle&role_id=... or ?auth=kubernetes&role=...)';
const FORM_HINT = `write the store URL as ${FORM}, e.g. vault+https://vault.internal:8200/secret/acmectl?token_file=/etc/acmectl/vault-token`;

// Header values must be visible ASCII; a token or namespace with a space or newline is a copy-paste accident.
const HEADER_SAFE = /^[\x21-\x7e]+$/;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Parses the text of a vault store URL (docs/cli.md#store-urls). Throws UsageError (exit 2) with the expected form. */
export function parseVaultUrl(url: string, context: StoreOpenContext): VaultStoreConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not even parseable: redaction cannot find the token either, so the URL is not repeated at all.
    throw new UsageError('the vault store URL is not a valid URL (look for spaces or characters that need %-encoding)', {
      hint: FORM_HINT,
    });
  }
  // Without the #fragment: a "#" typed inside a token starts one, and redactStoreUrl would show the rest of it.
  const display = redactStoreUrl(url.slice(0, url.includes('#') ? url.indexOf('#') : undefined));
  const fail = (message: string, hint: string = FORM_HINT): never => {
    throw new UsageError(`vault store URL ${display}: ${message}`, { hint });
  };

  if (parsed.protocol !== 'vault:' && parsed.protocol !== 'vault+https:') {
    fail(`the scheme must be vault:// or vault+https://, not ${parsed.protocol}//`);
  }
  const protocol = parsed.protocol === 'vault+https:' ? 'https:' : 'http:';
  if (parsed.username !== '' || parsed.password !== '') {
    fail('a user name or password in the URL is not used by Vault', 'give the token with ?token=, ACMECTL_STORE_TOKEN or ?token_file=');
  }
  if (parsed.hash !== '') {
    fail('the URL has a #fragment (not shown here)', 'a "#" inside a value must be written %23');
  }
  if (parsed.hostname === '') fail('the URL needs a host: vault://HOST:8200/...');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port === '' ? VAULT_DEFAULT_PORT : Number(parsed.port);

  for (const name of new Set(parsed.searchParams.keys())) {
    if (parsed.searchParams.getAll(name).length > 1) fail(`the parameter "${name}" is given more than once`);
  }
  checkKnownParameters(parsed, KNOWN_PARAMETERS, 'vault');
  const network = networkOptions(parsed, context, 'vault');
  if (protocol === 'http:') {
    for (const name of ['tls_verify', 'servername']) {
      if (parsed.searchParams.has(name)) {
        fail(`${name} applies only to TLS connections`, 'write vault+https:// to talk to Vault over TLS');
      }
    }
  }

  const { mount, pathPrefix } = mountAndPrefix(parsed.pathname, fail);
  const namespace = parsed.searchParams.get('namespace');
  if (namespace !== null && !HEADER_SAFE.test(namespace)) {
    fail('namespace must be a non-empty name without spaces or control characters');
  }

  const method = parsed.searchParams.get('auth') ?? 'token';
  if (!isAuthMethod(method)) {
    return fail(`auth must be token, approle or kubernetes, got "${visibleText(method, 100)}"`);
  }
  for (const name of parsed.searchParams.keys()) {
    const owners = AUTH_METHODS.filter((other) => PARAMETERS_OF[other].includes(name));
    if (owners.length > 0 && !owners.includes(method)) {
      fail(`${name} does not apply to auth=${method}`, `${name} belongs to ${owners.map((owner) => `auth=${owner}`).join(' and ')}`);
    }
  }

  return {
    display,
    protocol,
    host,
    port,
    mount,
    pathPrefix,
    ...(namespace !== null ? { namespace } : {}),
    auth: authOf(method, parsed, context, fail),
    ...network,
  };
}

function authOf(
  method: VaultAuth['method'],
  url: URL,
  context: StoreOpenContext,
  fail: (message: string, hint?: string) => never,
): VaultAuth {
  const required = (name: string, what: string): string => {
    const value = url.searchParams.get(name);
    if (value === null || value === '') return fail(`auth=${method} needs ${name}=${what}`);
    if (CONTROL_CHARACTER.test(value)) return fail(`${name} must not contain control characters`);
    return value;
  };
  const authMount = (fallback: string): string => {
    const value = url.searchParams.get('auth_mount');
    if (value === null) return fallback;
    const segments = value.replace(/^\/+|\/+$/g, '').split('/');
    if (segments.some((segment) => !isPlainSegment(segment))) {
      return fail('auth_mount must be a mount path such as "approle" or "k8s/cluster-a"');
    }
    return segments.join('/');
  };

  switch (method) {
    case 'token': {
      const token = storeSecret(url, { parameter: 'token', env: 'ACMECTL_STORE_TOKEN' }, context);
      if (token === undefined) {
        return fail(
          'the vault store needs a Vault token',
          'give it with ?token=, the ACMECTL_STORE_TOKEN environment variable or ?token_file=FILE, or log in with ?auth=approle or ?auth=kubernetes',
        );
      }
      // Never repeat the token, not even in this message.
      if (!HEADER_SAFE.test(token)) return fail('the Vault token contains spaces or control characters');
      return { method, token: new SecretText(token) };
    }
    case 'approle': {
      const roleId = required('role_id', 'ROLE_ID');
      const secretId = storeSecret(url, { parameter: 'secret_id', env: 'ACMECTL_STORE_SECRET_ID' }, context);
      if (secretId === undefined) {
        return fail(
          'auth=approle needs a secret ID',
          'give it with ?secret_id=, the ACMECTL_STORE_SECRET_ID environment variable or ?secret_id_file=FILE',
        );
      }
      return { method, mount: authMount(VAULT_DEFAULT_APPROLE_MOUNT), roleId, secretId: new SecretText(secretId) };
    }
    case 'kubernetes': {
      const role = required('role', 'ROLE');
      const jwtFile = url.searchParams.get('jwt_file') ?? VAULT_DEFAULT_JWT_FILE;
      if (jwtFile === '' || jwtFile.includes('\0')) return fail('jwt_file must name a file');
      return { method, mount: authMount(VAULT_DEFAULT_KUBERNETES_MOUNT), role, jwtFile };
    }
  }
}

/** `/MOUNT/PATH/PREFIX` → mount and prefix; each segment percent-decoded, so `team%2Fkv` is a nested mount. */
function mountAndPrefix(pathname: string, fail: (message: string, hint?: string) => never): { mount: string; pathPrefix: string } {
  const raw = pathname.split('/').slice(1);
  if (raw.at(-1) === '') raw.pop(); // a trailing slash
  const decoded = raw.map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return fail('the path has a malformed %-escape');
    }
  });
  for (const segment of decoded) {
    if (!segment.split('/').every(isPlainSegment)) {
      fail('the mount and path must not have empty, "." or ".." segments or control characters');
    }
  }
  const [mount = VAULT_DEFAULT_MOUNT, ...prefix] = decoded;
  return { mount, pathPrefix: prefix.length === 0 ? VAULT_DEFAULT_PATH_PREFIX : `${prefix.join('/')}/` };
}

function isPlainSegment(segment: string): boolean {
  return segment !== '' && segment !== '.' && segment !== '..' && !CONTROL_CHARACTER.test(segment);
}

function isAuthMethod(value: string): value is VaultAuth['method'] {
  return (AUTH_METHODS as readonly string[]).includes(value);
}
