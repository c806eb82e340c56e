import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { OperationError, UsageError } from '../domain/errors.js';
import { visibleText } from '../domain/visible-text.js';
import type { ConfigFile } from './resolve.js';

// cosmiconfig's defaults without the TypeScript loader, plus acmectl.config.json (which docs/cli.md#config-file names first).
const SEARCH_PLACES = [
  'package.json',
  ...['', '.json', '.yaml', '.yml', '.js', '.cjs', '.mjs'].flatMap((ext) => [`.acmectlrc${ext}`, `.config/acmectlrc${ext}`]),
  ...['.json', '.yaml', '.yml', '.js', '.cjs', '.mjs'].map((ext) => `acmectl.config${ext}`),
];

/**
 * Finds the config file: `--config FILE` when given (it must exist), else cosmiconfig's search for module
 * name `acmectl` (acmectl.config.json, .acmectlrc, .acmectlrc.json, acmectl.config.js, package.json "acmectl",
 * ...) from the working directory up to the home directory, then ~/.config/acmectl/. Null when none is found.
 * cosmiconfig is imported only here, on demand.
 */
export async function loadConfigFile(explicitPath: string | undefined, cwd = process.cwd()): Promise<ConfigFile | null> {
  if (explicitPath === undefined && !configFileMayExist(cwd)) return null;
  const { cosmiconfig, defaultLoaders } = await import('cosmiconfig');
  // cosmiconfig takes a file holding `null` (or a module exporting it) for no file at all and searches on; an
  // empty file it skips unless told not to. Either is a mistake worth saying, so both are refused (exit 2).
  const loaders = Object.fromEntries(
    LOADED_EXTENSIONS.map((ext) => [
      ext,
      async (path: string, content: string): Promise<unknown> => {
        const value: unknown = await defaultLoaders[ext](path, content);
        if (value === null) throw new UsageError(`config file ${path} holds null: expected an object of settings`);
        return value;
      },
    ]),
  );
  const explorer = cosmiconfig('acmectl', { searchStrategy: 'global', searchPlaces: SEARCH_PLACES, loaders, ignoreEmptySearchPlaces: false });
  if (explicitPath !== undefined) {
    const path = resolve(cwd, explicitPath);
    if (!existsSync(path)) throw new UsageError(`config file ${visibleText(path, 300)} does not exist`);
    try {
      const found = await explorer.load(path);
      if (!found || found.isEmpty) throw emptyFile(path);
      return { path, values: found.config };
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`config file ${path} could not be read: ${describe(error)}`, { cause: error });
    }
  }
  try {
    const found = await explorer.search(cwd);
    if (!found) return null;
    if (found.isEmpty) throw emptyFile(found.filepath);
    return { path: found.filepath, values: found.config };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const message = describe(error);
    // cosmiconfig names the file in its parse errors; a parse error is the user's input, anything else is not.
    if (/JSON|YAML|parse|Unexpected/i.test(message)) throw new UsageError(`config file could not be read: ${message}`, { cause: error });
    throw new OperationError(`looking for a config file failed: ${message}`, { cause: error });
  }
}

const LOADED_EXTENSIONS = ['.json', '.yaml', '.yml', '.js', '.cjs', '.mjs', 'noExt'] as const;

// Where cosmiconfig reads its own settings (in the process's working directory), which could change its search.
const COSMICONFIG_META_PLACES = ['package.json', 'package.yaml', ...['.json', '.yaml', '.yml', '.js', '.ts', '.cjs', '.mjs'].map((ext) => `.config/config${ext}`)];

/**
 * False only when cosmiconfig's search certainly finds nothing: none of the search places exists in the working
 * directory or any directory above it (up to the root, past cosmiconfig's stop at the home directory), none of its
 * own settings files is in the process's working directory, and there is no global config directory
 * ($XDG_CONFIG_HOME/acmectl or ~/.config/acmectl, as env-paths names it on Linux; elsewhere this is not checked,
 * and cosmiconfig always searches). A few dozen stat calls spare most runs, on hosts without a config file, the
 * 20–30 ms of loading cosmiconfig; whenever anything is there, cosmiconfig searches as it always did.
 */
function configFileMayExist(cwd: string): boolean {
  if (process.platform !== 'linux') return true;
  const home = homedir();
  if (existsSync(join(process.env.XDG_CONFIG_HOME || join(home, '.config'), 'acmectl'))) return true;
  if (COSMICONFIG_META_PLACES.some((place) => existsSync(join(process.cwd(), place)))) return true;
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (SEARCH_PLACES.some((place) => existsSync(join(dir, place)))) return true;
    if (dirname(dir) === dir) return false;
  }
}

function emptyFile(path: string): UsageError {
  return new UsageError(`config file ${path} is empty: expected an object of settings`, { hint: 'write {} for a file without settings, or remove it' });
}

/** A parser's message quotes the file, which may hold anything: on one line, control characters made visible. */
function describe(error: unknown): string {
  return visibleText((error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' '), 500);
}
