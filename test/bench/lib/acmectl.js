// How the bench runs the built acmectl (bin/acmectl.js → dist/) and the bare acme-client floor.
import { fileURLToPath } from 'node:url';
import { cleanEnv } from './child.js';

export const ACMECTL_BIN = fileURLToPath(new URL('../../../bin/acmectl.js', import.meta.url));
export const BARE_ACME_CLIENT = fileURLToPath(new URL('../bare-acme-client.cjs', import.meta.url));
export const EMAIL = 'bench@example.com';

/**
 * acmectl ARGS with ACMECTL_HOME=home (and HOME, so that nothing outside it is read), as a runTimed command.
 * @param {string[]} args
 * @param {string} home
 * @param {Record<string, string>} [env]
 */
export function acmectl(args, home, env = {}) {
  return { command: process.execPath, args: [ACMECTL_BIN, ...args], env: cleanEnv(home, { ACMECTL_HOME: home, ...env }) };
}

/** The global options that point acmectl at the bench's Pebble. */
export function pebbleOptions(pebble) {
  return ['--server', pebble.directoryUrl, '--ca-bundle', pebble.caBundlePath];
}

/**
 * The bare acme-client floor (bare-acme-client.cjs) for `names` at `concurrency`, with the account in
 * `accountFile` (registered by the first run).
 */
export function bareAcmeClient(pebble, { webroot, accountFile, concurrency, names, home }) {
  return {
    command: process.execPath,
    args: [BARE_ACME_CLIENT, pebble.directoryUrl, pebble.caBundlePath, webroot, accountFile, String(concurrency), ...names],
    env: cleanEnv(home),
  };
}
