/**
 * Every configurable setting, once. The table drives the config-file validator, the environment variable
 * names (ACMECTL_<FLAG_NAME>), flag parsing, `acmectl.config.example.json` (checked by a test) and
 * redaction of secrets. Precedence: flag > environment > config file > default (docs/cli.md#precedence).
 */
import { PKCS12_PASSWORD_ENV } from '../deploy/formats.js';
import { CHALLENGE_METHODS, KEY_TYPES } from '../domain/choices.js';

interface Base<T> {
  /** Long flag without dashes, e.g. "http-port"; the env variable is ACMECTL_HTTP_PORT. */
  flag: string;
  default: T;
  description: string;
  /** Never printed or logged, and withheld from hooks' environment. */
  secret?: boolean;
  /** Read from the environment only: no flag (which `ps` would show) and no config-file key. */
  envOnly?: boolean;
}
type StringDef = Base<string | null> & { type: 'string' };
type IntegerDef = Base<number | null> & { type: 'integer'; min: number; max: number };
/** `negatable`: there is a --no-<flag> too, and ACMECTL_NO_<FLAG>=true in the environment means false. */
type BooleanDef = Base<boolean | null> & { type: 'boolean'; negatable?: boolean };
type EnumDef<V extends string> = Base<V> & { type: 'enum'; values: readonly V[] };

export const SETTINGS = {
  server: { type: 'string', flag: 'server', default: 'letsencrypt', description: 'CA preset (letsencrypt, letsencrypt-staging, zerossl, buypass, buypass-staging, google, google-staging) or https URL of an ACME directory' },
  store: { type: 'string', flag: 'store', default: null, description: 'store URL; default sqlite:<data dir>/acmectl.db' },
  caBundle: { type: 'string', flag: 'ca-bundle', default: null, description: 'PEM file of extra CA certificates trusted for the ACME server and the store' },
  email: { type: 'string', flag: 'email', default: null, description: 'contact email of the ACME account' },
  agreeTos: { type: 'boolean', flag: 'agree-tos', default: false, description: "agree to the CA's terms of service when registering an account" },
  eabKid: { type: 'string', flag: 'eab-kid', default: null, description: 'external account binding key id (from the CA)' },
  eabHmacKey: { type: 'string', flag: 'eab-hmac-key', default: null, secret: true, description: 'external account binding HMAC key, base64url as the CA gives it' },
  eabEndpoint: {
    type: 'string',
    flag: 'eab-endpoint',
    default: null,
    description: "URL that hands out EAB credentials for --email when the CA requires them and none are given (ZeroSSL's API form; the default for --server zerossl)",
  },
  profile: { type: 'string', flag: 'profile', default: null, description: "the CA's certificate profile (e.g. shortlived at Let's Encrypt); acmectl ca lists them" },
  keyType: { type: 'enum', flag: 'key-type', values: KEY_TYPES, default: 'ec256', description: 'certificate key type' },
  keyGroup: { type: 'string', flag: 'key-group', default: null, description: 'group given the private key files (privkey.pem, combined.pem, certificate.p12), e.g. ssl-cert; stored for renewals' },
  keyMode: { type: 'string', flag: 'key-mode', default: null, description: 'mode of the private key files: 0600 (default), 0640 with --key-group, 0644; stored for renewals' },
  preferredChain: { type: 'string', flag: 'preferred-chain', default: null, description: 'issuer common name of the topmost certificate of the chain to use when the CA offers several (e.g. "ISRG Root X1"); stored for renewals' },
  challenge: { type: 'enum', flag: 'challenge', values: CHALLENGE_METHODS, default: 'standalone', description: 'how HTTP-01 challenges are answered' },
  httpPort: { type: 'integer', flag: 'http-port', min: 1, max: 65535, default: 80, description: 'port of the standalone HTTP-01 responder' },
  httpAddress: { type: 'string', flag: 'http-address', default: null, description: 'address the standalone responder listens on; default every IPv4 and IPv6 address' },
  webroot: { type: 'string', flag: 'webroot', default: null, description: 'document root: token files go under <webroot>/.well-known/acme-challenge/' },
  out: { type: 'string', flag: 'out', default: null, description: 'export directory; default <data dir>/live' },
  preHook: { type: 'string', flag: 'pre-hook', default: null, description: 'command run once before the first challenge of a run (e.g. to free port 80)' },
  postHook: { type: 'string', flag: 'post-hook', default: null, description: 'command run once after the last order of a run, also after a failure' },
  deployHook: { type: 'string', flag: 'deploy-hook', default: null, description: 'command run once per certificate issued or renewed, with its data in the environment' },
  failureHook: { type: 'string', flag: 'failure-hook', default: null, description: 'command run once after a run in which a certificate failed (names and reasons in its environment)' },
  hookTimeout: { type: 'integer', flag: 'hook-timeout', min: 1, max: 3600, default: 120, description: 'seconds a hook may run before it is killed' },
  concurrency: { type: 'integer', flag: 'concurrency', min: 1, max: 64, default: 4, description: 'certificates renewed at once' },
  requestTimeout: { type: 'integer', flag: 'request-timeout', min: 1, max: 600, default: 30, description: 'seconds one request to the CA may take' },
  orderTimeout: { type: 'integer', flag: 'order-timeout', min: 1, max: 3600, default: 300, description: 'seconds the CA may take to validate and issue one order' },
  days: { type: 'integer', flag: 'days', min: 0, max: 3650, default: null, description: 'renew: renew when fewer than this many days are left (default: the renewal window)' },
  randomSleep: {
    type: 'boolean',
    flag: 'random-sleep',
    negatable: true,
    default: null,
    description: 'renew: wait a random 0-480 s before the first order (default: when not on a terminal, as from cron)',
  },
  storePassword: { type: 'string', flag: 'store-password', envOnly: true, secret: true, default: null, description: 'password of a Redis or etcd store' },
  storeToken: { type: 'string', flag: 'store-token', envOnly: true, secret: true, default: null, description: 'token of a Consul or Vault store' },
  storeSecretId: { type: 'string', flag: 'store-secret-id', envOnly: true, secret: true, default: null, description: 'AppRole secret ID of a Vault store' },
} satisfies Record<string, StringDef | IntegerDef | BooleanDef | EnumDef<string>>;

export type SettingKey = keyof typeof SETTINGS;
type ValueOf<D> = D extends { type: 'enum'; values: readonly (infer V)[] }
  ? V
  : (D extends { type: 'string' } ? string : D extends { type: 'integer' } ? number : boolean) | (D extends { default: null } ? null : never);
export type Settings = { -readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };
export type SettingSource = 'flag' | 'env' | 'file' | 'default';

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** The keys a config file may hold: all but the environment-only secrets. */
export const FILE_SETTING_KEYS = SETTING_KEYS.filter((key) => !isEnvOnly(key));

export function envName(key: SettingKey): string {
  return `ACMECTL_${SETTINGS[key].flag.replace(/-/g, '_').toUpperCase()}`;
}

/** ACMECTL_NO_RANDOM_SLEEP for a negatable switch, else undefined. */
export function negatedEnvName(key: SettingKey): string | undefined {
  return (SETTINGS[key] as { negatable?: boolean }).negatable ? `ACMECTL_NO_${SETTINGS[key].flag.replace(/-/g, '_').toUpperCase()}` : undefined;
}

export function isSecret(key: SettingKey): boolean {
  return (SETTINGS[key] as { secret?: boolean }).secret === true;
}

export function isEnvOnly(key: SettingKey): boolean {
  return (SETTINGS[key] as { envOnly?: boolean }).envOnly === true;
}

/**
 * The environment variables that carry a secret: every secret setting's, and the PKCS#12 password's. Hooks run
 * without them (docs/cli.md#hook-environment): a hook is the user's command, and whatever it starts need not see acmectl's secrets.
 */
export function secretEnvironmentNames(): string[] {
  return [...SETTING_KEYS.filter(isSecret).map(envName), PKCS12_PASSWORD_ENV];
}

export function defaultSettings(): Settings {
  return Object.fromEntries(SETTING_KEYS.map((key) => [key, SETTINGS[key].default])) as Settings;
}
