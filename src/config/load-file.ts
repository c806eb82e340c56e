import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { OperationError, UsageError } from '../domain/errors.js';
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
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig('acmectl', { searchStrategy: 'global', searchPlaces: SEARCH_PLACES });
  if (explicitPath !== undefined) {
    const path = resolve(cwd, explicitPath);
    if (!existsSync(path)) throw new UsageError(`config file ${path} does not exist`);
    try {
      const found = await explorer.load(path);
      return { path, values: found?.config ?? {} };
    } catch (error) {
      throw new UsageError(`config file ${path} could not be read: ${describe(error)}`, { cause: error });
    }
  }
  try {
    const found = await explorer.search(cwd);
    if (!found || found.isEmpty) return null;
    return { path: found.filepath, values: found.config };
  } catch (error) {
    const message = describe(error);
    // cosmiconfig names the file in its parse errors; a parse error is the user's input, anything else is not.
    if (/JSON|YAML|parse|Unexpected/i.test(message)) throw new UsageError(`config file could not be read: ${message}`, { cause: error });
    throw new OperationError(`looking for a config file failed: ${message}`, { cause: error });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
