import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The data directory (docs/cli.md#where-things-live): $ACMECTL_HOME, else /var/lib/acmectl for root, else
 * ${XDG_DATA_HOME:-~/.local/share}/acmectl.
 * Pure: creating the directory (mode 0700) is left to whoever first writes there.
 */
export function dataDirectory(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (env.ACMECTL_HOME) return resolve(env.ACMECTL_HOME);
  if (uid === 0) return '/var/lib/acmectl';
  const base = env.XDG_DATA_HOME ? resolve(env.XDG_DATA_HOME) : join(homedir(), '.local', 'share');
  return join(base, 'acmectl');
}

export function defaultStoreUrl(dataDir: string): string {
  return `sqlite:${join(dataDir, 'acmectl.db')}`;
}

export function defaultExportDirectory(dataDir: string): string {
  return join(dataDir, 'live');
}
