// What the benchmark's scale figures rest on (npm run bench, issue 12): a run with nothing to do stays off the
// network and does not load the ACME client. Pebble 2.10 (ARI) behind a stand-in that records every request.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { runCli } from '../support/cli.js';
import { CA_PATH_MODULES, loadedModules, RECORDING_PRELOAD } from '../support/loaded-modules.js';
import { startRateLimitingProxy } from '../support/rate-limiting-proxy.js';
import type { RateLimitingProxy } from '../support/rate-limiting-proxy.js';
import { tempDir } from '../support/temp-dir.js';

let pebble: PebbleHandle;
let proxy: RateLimitingProxy;
beforeAll(async () => {
  pebble = await startPebble({ version: 'ari', profiles: { classic: { description: '90 days', validityPeriod: 90 * 86_400 } } });
  proxy = await startRateLimitingProxy(pebble);
});
afterAll(async () => {
  await proxy?.stop();
  await pebble?.stop();
});

/** Runs acmectl in `home`, returning its result and the packages and dist/ modules it loaded. */
async function runRecordingModules(home: string, args: string[]) {
  const record = join(home, `modules-${Date.now()}.txt`);
  const result = await runCli(args, { home, env: { NODE_OPTIONS: `--require ${RECORDING_PRELOAD}`, RECORD_LOADED_MODULES: record } });
  const loaded = loadedModules(record);
  return { ...result, loaded, caPath: loaded.filter((module) => CA_PATH_MODULES.includes(module) || module === 'acme-client') };
}

describe('a run with nothing to do', () => {
  it('renew, the CA window stored and not yet to be asked again: no request to the CA, no ACME client loaded; list neither', async () => {
    const home = tempDir('nothing-to-do');
    const issued = await runCli(
      ['issue', 'idle.example.test', '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos', '--server', proxy.directoryUrl, '--ca-bundle', pebble.caBundlePath],
      { home },
    );
    expect(issued.code, issued.stderr).toBe(0);
    await pebble.setRenewalInfo(readFileSync(join(home, 'live', 'idle.example.test', 'cert.pem'), 'utf8'), {
      start: new Date(Date.now() + 20 * 86_400_000),
      end: new Date(Date.now() + 22 * 86_400_000),
    });
    // The first renew asks the CA for the window and stores it with its Retry-After.
    const asking = await runCli(['renew', '--no-random-sleep'], { home });
    expect(asking.code, asking.stderr).toBe(0);
    expect(proxy.requests.some((request) => request.path.includes('renewalInfo'))).toBe(true);

    const seen = proxy.requests.length;
    const idle = await runRecordingModules(home, ['renew', '--no-random-sleep']);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stdout).toMatch(/^0 renewed, 1 not due, 0 failed$/m);
    expect(proxy.requests.slice(seen)).toEqual([]);
    // acmectl's own CA modules are part of the renew command (a few small files); the package it once needed is not.
    expect(idle.loaded).not.toContain('acme-client');

    const listed = await runRecordingModules(home, ['list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^idle\.example\.test /m);
    expect(listed.loaded).toContain('better-sqlite3');
    expect(listed.caPath).toEqual([]);
    expect(proxy.requests.slice(seen)).toEqual([]);
  });
});
