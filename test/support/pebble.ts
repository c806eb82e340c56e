// Test-side entry point for the Pebble harness (the implementation is shared with `npm run demo`
// and lives in scripts/lib/pebble.js).
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';

import { requestText, startPebble, type PebbleHandle, type StartPebbleOptions } from '../../scripts/lib/pebble.js';

export * from '../../scripts/lib/pebble.js';

/**
 * Starts one Pebble for the enclosing `describe` (or file) in beforeAll and stops it in afterAll.
 * Returns an accessor; calling it before beforeAll has run throws, so a misplaced call cannot
 * silently test against nothing.
 *
 *   const pebble = withPebble({ env: { PEBBLE_WFE_NONCEREJECT: '0' } });
 *   it('issues', async () => { run(['issue', ..., '--server', pebble().directoryUrl]) });
 */
export function withPebble(options: StartPebbleOptions = {}): () => PebbleHandle {
  let handle: PebbleHandle | undefined;
  beforeAll(async () => {
    handle = await startPebble(options);
  });
  afterAll(async () => {
    await handle?.stop();
    handle = undefined;
  });
  return () => {
    if (!handle) throw new Error('withPebble(): Pebble is not running (use the accessor inside tests or hooks, after beforeAll)');
    return handle;
  };
}

/** GETs Pebble's directory over HTTPS, trusting only the harness CA, and parses it. */
export async function fetchDirectory(pebble: PebbleHandle): Promise<AcmeDirectory> {
  const ca = await readFile(pebble.caBundlePath);
  const response = await requestText(pebble.directoryUrl, { ca });
  if (response.status !== 200) {
    throw new Error(`GET ${pebble.directoryUrl} answered ${response.status}: ${response.body.slice(0, 200)}`);
  }
  return JSON.parse(response.body) as AcmeDirectory;
}

/** The RFC 8555 directory fields Pebble 2.4.0 serves, plus what 2.10 adds (renewalInfo, meta.profiles). */
export interface AcmeDirectory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  revokeCert: string;
  keyChange: string;
  /** RFC 9773 (Pebble 2.10, startPebble({ version: 'ari' })). */
  renewalInfo?: string;
  meta?: {
    termsOfService?: string;
    externalAccountRequired?: boolean;
    /** Profile name -> description (Pebble 2.10). */
    profiles?: Record<string, string>;
    [key: string]: unknown;
  };
}
