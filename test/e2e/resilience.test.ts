import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { startRateLimitingProxy } from '../support/rate-limiting-proxy.js';
import { tempDir } from '../support/temp-dir.js';

const issueArgs = (pebble: PebbleHandle, names: string[]) => ['issue', ...names, ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'];

describe('a CA that rejects half of the nonces', () => {
  let pebble: PebbleHandle;
  beforeAll(async () => {
    pebble = await startPebble({ version: 'ari', env: { PEBBLE_WFE_NONCEREJECT: '50' } });
  });
  afterAll(async () => pebble?.stop());

  it('still gives 20 certificates in a row', async () => {
    const home = tempDir('resilience');
    for (let n = 1; n <= 20; n++) {
      const result = await runCli(issueArgs(pebble, [`nonce${n}.example.test`]), { home });
      expect(result.code, `issuance ${n}:\n${result.stderr}`).toBe(0);
    }
  });
});

describe('a CA that reuses valid authorizations', () => {
  let pebble: PebbleHandle;
  beforeAll(async () => {
    pebble = await startPebble({ version: 'ari', env: { PEBBLE_AUTHZREUSE: '100' } });
  });
  afterAll(async () => pebble?.stop());

  it('issues from an order that is ready at once, without a challenge', async () => {
    const home = tempDir('resilience');
    expect((await runCli(issueArgs(pebble, ['reuse.example.test']), { home })).code).toBe(0);
    const again = await runCli([...issueArgs(pebble, ['reuse.example.test']), '--force'], { home });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^reuse\.example\.test already validated$/m);
    expect(again.stderr).not.toMatch(/^reuse\.example\.test validated$/m);
  });
});

describe('a CA that disappears in the middle of an order', () => {
  let pebble: PebbleHandle;
  beforeAll(async () => {
    pebble = await startPebble({ env: { PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' } });
  });
  afterAll(async () => pebble?.stop());

  it('fails clearly (exit 1), stores nothing and writes no file', async () => {
    const home = tempDir('resilience');
    const proxy = await startRateLimitingProxy(pebble);
    try {
      // The CA vanishes once acmectl answers the challenge: the order exists, nothing is issued.
      proxy.vanishOn('/chalZ/');
      const result = await runCli(['issue', 'vanish.example.test', '--server', proxy.directoryUrl, '--ca-bundle', pebble.caBundlePath, '--http-port', String(pebble.httpPort), '--email', 'ops@example.com', '--agree-tos'], { home });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/order created/);
      expect(result.stderr).toMatch(/error: could not reach the CA at https:\/\/localhost:\d+\/chalZ\/\S+: (the connection was reset|connection refused)/);
      expect((await runCli(['show', 'vanish.example.test'], { home })).code).toBe(2);
      expect(existsSync(join(home, 'live', 'vanish.example.test'))).toBe(false);
    } finally {
      await proxy.stop();
    }
  });
});
