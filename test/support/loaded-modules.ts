import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The --require preload that records what a process loads (record-loaded-modules.cjs). */
export const RECORDING_PRELOAD = fileURLToPath(new URL('./record-loaded-modules.cjs', import.meta.url));

/**
 * acmectl's own CA path: the modules that sign and send requests to a CA. A command that contacts no CA loads
 * none of them (nor acme-client, which acmectl no longer uses at all).
 */
export const CA_PATH_MODULES = ['dist/acme/client.js', 'dist/acme/jws.js', 'dist/acme/nonce-pool.js', 'dist/acme/transport.js'];

/**
 * What a process recorded in `record`: package names for what came from node_modules, `dist/…` paths for
 * acmectl's own modules, other requests as they were made (node:fs, ./x.js).
 */
export function loadedModules(record: string): string[] {
  const requests = readFileSync(record, 'utf8').split('\n').filter(Boolean);
  return [
    ...new Set(
      requests.map((request) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(request)?.[1] ?? /\/(dist\/.+\.js)$/.exec(request)?.[1] ?? request),
    ),
  ];
}
