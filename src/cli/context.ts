import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dataDirectory, defaultExportDirectory, defaultStoreUrl } from '../config/data-dir.js';
import { loadConfigFile } from '../config/load-file.js';
import { resolveSettings } from '../config/resolve.js';
import type { FlagValues, ResolvedSettings } from '../config/resolve.js';
import { SETTINGS, envName } from '../config/settings.js';
import type { SettingKey, Settings } from '../config/settings.js';
import { UsageError } from '../domain/errors.js';
import { visibleText } from '../domain/visible-text.js';
import { pemCertificateBlocks } from '../pki/pem.js';
import { openParsedStore, parseStoreUrl } from '../store/open.js';
import type { Store } from '../store/store.js';
import type { Reporter } from './reporter.js';

/** Options every command accepts (commander's camelCase names). */
export interface GlobalOptions {
  config?: string;
  store?: string;
  server?: string;
  caBundle?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
}

/**
 * What a command runs with, built once per invocation: the effective settings (validated), where data lives,
 * the reporter, and a cancellation signal. The store is opened on demand, after the command has checked its
 * input, so that bad input never creates or touches a store.
 */
export interface Context {
  settings: Settings;
  sources: ResolvedSettings['sources'];
  configPath: string | null;
  dataDir: string;
  storeUrl: string;
  exportDir: string;
  reporter: Reporter;
  signal: AbortSignal;
  openStore(): Promise<Store>;
  /** True when the store may already hold data (a SQLite file that exists, or any remote store). */
  storeMayHoldData(): boolean;
  /** True for a store other hosts share (redis, etcd, consul, vault). */
  storeIsShared(): boolean;
  /** The --ca-bundle file's contents; UsageError when it is not a readable PEM file. */
  caBundlePem(): string | undefined;
}

export async function buildContext(
  global: GlobalOptions,
  commandFlags: FlagValues,
  reporter: Reporter,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Context> {
  const file = await loadConfigFile(global.config);
  const flags: FlagValues = { ...pick(global, ['store', 'server', 'caBundle']), ...commandFlags };
  const resolved = resolveSettings({ flags, env, file });
  const dataDir = dataDirectory(env);
  const storeUrl = resolved.settings.store ?? defaultStoreUrl(dataDir);
  // Parsed once, here: exit 2 on a bad URL before anything is opened, and its secret files are read once.
  const parsedStore = parseStoreUrl(storeUrl, { env });
  let store: Promise<Store> | undefined;
  let caBundle: { pem: string | undefined } | undefined;
  const caBundlePem = (): string | undefined => (caBundle ??= { pem: readCaBundle(resolved.settings.caBundle) }).pem;
  return {
    ...resolved,
    configPath: file?.path ?? null,
    dataDir,
    storeUrl,
    exportDir: resolved.settings.out ?? defaultExportDirectory(dataDir),
    reporter,
    signal,
    openStore: () => {
      const trusted = caBundlePem();
      return (store ??= openParsedStore(parsedStore, trusted ? { caBundlePem: trusted } : {}));
    },
    storeMayHoldData: () => parsedStore.kind !== 'sqlite' || existsSync(parsedStore.path),
    storeIsShared: () => parsedStore.kind !== 'sqlite' && parsedStore.kind !== 'memory',
    caBundlePem,
  };
}

/** Where a setting's value came from, for messages: "--out", "ACMECTL_OUT", "key "out" in config file F", or `byDefault`. */
export function settingSourceLabel(ctx: Pick<Context, 'sources' | 'configPath'>, key: SettingKey, byDefault: string): string {
  switch (ctx.sources[key]) {
    case 'flag':
      return `--${SETTINGS[key].flag}`;
    case 'env':
      return envName(key);
    case 'file':
      return `key "${key}" in config file ${ctx.configPath}`;
    default:
      return byDefault;
  }
}

function readCaBundle(path: string | null): string | undefined {
  if (path === null) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--ca-bundle ${visibleText(path, 300)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return checkCaBundle(text, path);
}

// Stored with every certificate from the CA: a few private roots fit many times over; a whole system bundle
// (~200 KiB) would not fit a Consul or Vault value, and Node trusts the public roots already.
const CA_BUNDLE_MAX_BYTES = 64 * 1024;

/** The bundle's certificates as PEM, each checked to be a certificate; UsageError naming the file otherwise. */
function checkCaBundle(text: string, path: string): string {
  if (Buffer.byteLength(text) > CA_BUNDLE_MAX_BYTES) {
    throw new UsageError(`--ca-bundle ${path} is larger than ${CA_BUNDLE_MAX_BYTES / 1024} KiB`, {
      hint: "pass only your CA's own root (and intermediate) certificates: the public roots are trusted already",
    });
  }
  const blocks = pemCertificateBlocks(text);
  if (blocks.length === 0) throw new UsageError(`--ca-bundle ${path} holds no PEM certificate`);
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      throw new UsageError(`--ca-bundle ${path}: certificate ${index + 1} of ${blocks.length} cannot be read`);
    }
  }
  return `${blocks.join('\n')}\n`;
}

function pick<T extends object>(source: T, keys: (keyof T & SettingKey)[]): FlagValues {
  const result: FlagValues = {};
  for (const key of keys) {
    const value = source[key];
    if (value !== undefined) result[key] = value as string | boolean;
  }
  return result;
}
