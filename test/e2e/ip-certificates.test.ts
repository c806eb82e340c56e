import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

// IP address identifiers (RFC 8738): Pebble's VA fetches the token from the address itself.
let pebble: PebbleHandle;
beforeAll(async () => {
  pebble = await startPebble();
});
afterAll(async () => pebble?.stop());

function canListenOn(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(0, address, () => server.close(() => resolve(true)));
  });
}

async function issueFor(address: string, name: string): Promise<X509Certificate> {
  const home = tempDir('ip');
  const result = await runCli(['issue', address, ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--email', 'ops@example.com', '--agree-tos'], { home });
  expect(result.code, result.stderr).toBe(0);
  const certificate = new X509Certificate(readFileSync(join(home, 'live', name, 'cert.pem')));
  const shown = JSON.parse((await runCli(['show', name, '--json'], { home })).stdout) as { domains: string[] };
  expect(shown.domains).toEqual([address]);
  return certificate;
}

describe('certificates for IP addresses', () => {
  it('issues for 127.0.0.1, with the address as an IP SAN', async () => {
    const certificate = await issueFor('127.0.0.1', '127.0.0.1');
    expect(certificate.subjectAltName).toBe('IP Address:127.0.0.1');
  });

  it('issues for ::1 under the name 0--1', async () => {
    // Not a skip: a machine without IPv6 loopback cannot run this suite, and says so as a failure.
    expect(await canListenOn('::1'), 'this machine has no IPv6 loopback (::1); the test suite needs it').toBe(true);
    const certificate = await issueFor('::1', '0--1');
    expect(certificate.subjectAltName).toBe('IP Address:0:0:0:0:0:0:0:1');
  });
});
