import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

let pebble: PebbleHandle;
beforeAll(async () => {
  // Pebble rejects this share of valid nonces with badNonce; a client must retry with the fresh nonce it got.
  pebble = await startPebble({ env: { PEBBLE_WFE_NONCEREJECT: '50' } });
});
afterAll(async () => pebble?.stop());

describe('a CA that rejects many nonces', () => {
  it('still issues: badNonce is retried with a fresh nonce', async () => {
    const home = tempDir('nonce');
    for (const name of ['nonce1.example.test', 'nonce2.example.test', 'nonce3.example.test']) {
      const result = await runCli(['issue', name, ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'], { home });
      expect(result.stderr).not.toMatch(/error/);
      expect(result.code).toBe(0);
    }
  });
});
