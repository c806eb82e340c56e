import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, PEBBLE_EAB_KEYS, startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { BIN, pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

// The plain (no colour) output of the failures people meet first, kept as snapshots so that they do not rot:
// each names what happened and the one fix that applies to this case. Ports, paths, tokens and account ids
// are replaced by placeholders.
let pebble: PebbleHandle;
let eabPebble: PebbleHandle;
beforeAll(async () => {
  [pebble, eabPebble] = await Promise.all([startPebble(), startPebble({ eab: true })]);
});
afterAll(async () => {
  await Promise.all([pebble?.stop(), eabPebble?.stop()]);
});

function normalize(text: string, home: string): string {
  return text
    .replaceAll(home, 'HOME')
    .replaceAll(pebble.caBundlePath, 'CA_BUNDLE')
    .replaceAll(eabPebble.caBundlePath, 'CA_BUNDLE')
    .replace(/acme-challenge\/[A-Za-z0-9_-]{20,}/g, 'acme-challenge/TOKEN')
    .replace(/my-account\/[0-9a-f]+/g, 'my-account/ID')
    .replace(/serial [0-9A-F]+/g, 'serial SERIAL')
    .replace(/\b(port|--http-port) \d+/g, '$1 PORT')
    .replace(/:\d{2,5}\b/g, ':PORT');
}
const standalone = (port = pebble.httpPort) => ['--http-port', String(port), '--http-address', '127.0.0.1'];

describe('messages of common failures (plain output)', () => {
  it('no account and no --agree-tos', async () => {
    const home = tempDir('messages');
    const result = await runCli(['issue', 'first.example.test', ...pebbleArgs(pebble), ...standalone()], { home });
    expect(result.code).toBe(2);
    expect(normalize(result.stderr, home)).toMatchInlineSnapshot(`
      "error: no ACME account for https://localhost:PORT/dir yet
      hint: add --agree-tos and --email you@example.com to register one, or run acmectl account register first
      "
    `);
  });

  it('a wrong EAB HMAC key talks about the EAB credentials, not about challenges', async () => {
    const home = tempDir('messages');
    const args = ['account', 'register', ...pebbleArgs(eabPebble), '--email', 'ops@example.com', '--agree-tos', '--eab-kid', 'kid-1', '--eab-hmac-key', PEBBLE_EAB_KEYS['kid-2']];
    const result = await runCli(args, { home });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/acme-challenge/);
    expect(normalize(result.stderr, home)).toMatchInlineSnapshot(`
      "error: the CA refused registering the account: unauthorized: external account binding JWS verification error: square/go-jose: error in cryptographic primitive
      hint: the CA did not accept the external account binding: copy --eab-kid and --eab-hmac-key again from the CA (some CAs accept each pair for one account only)
      "
    `);
  });

  it('a validation that reached another port than --http-port names both ports, and says the reason once', async () => {
    const home = tempDir('messages');
    const elsewhere = await freePort();
    const result = await runCli(['issue', 'wrong-port.example.test', ...pebbleArgs(pebble), ...standalone(elsewhere), '--email', 'ops@example.com', '--agree-tos'], { home });
    expect(result.code).toBe(1);
    expect(result.stderr.match(/connection refused/g)).toHaveLength(1);
    expect(result.stderr).toContain(`the CA connected to port ${pebble.httpPort} of wrong-port.example.test, but acmectl listened on port ${elsewhere}`);
    expect(normalize(result.stderr, home)).toMatchInlineSnapshot(`
      "ACME account registered
      order created for wrong-port.example.test
      failed: wrong-port.example.test not validated
      error: validation of wrong-port.example.test failed: connection: Get "http://wrong-port.example.test:PORT/.well-known/acme-challenge/TOKEN": dial tcp 127.0.0.1:PORT: connect: connection refused
      hint: the CA connected to port PORT of wrong-port.example.test, but acmectl listened on port PORT: forward port PORT to port PORT, or use --http-port PORT
      "
    `);
  });

  it('a port that is taken fails before any account or order is made at the CA', async () => {
    const home = tempDir('messages');
    const taken = await listenSomewhere();
    try {
      const port = (taken.address() as { port: number }).port;
      const result = await runCli(['issue', 'taken.example.test', ...pebbleArgs(pebble), ...standalone(port), '--email', 'ops@example.com', '--agree-tos'], { home });
      expect(result.code).toBe(1);
      expect(result.stderr).not.toMatch(/account registered|order created/i);
      expect(normalize(result.stderr, home)).toMatchInlineSnapshot(`
        "error: port PORT is already in use by another process on 127.0.0.1
        hint: stop it with --pre-hook, or use --webroot DIR, or run acmectl serve behind your proxy
        "
      `);
      // Nothing reached the CA: not even the account was registered.
      expect(JSON.parse((await runCli(['account', 'list', '--json'], { home })).stdout)).toEqual({ ok: true, accounts: [] });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('a CA whose TLS certificate is not trusted', async () => {
    const home = tempDir('messages');
    const result = await runCli(['issue', 'tls.example.test', '--server', pebble.directoryUrl, ...standalone(), '--agree-tos'], { home });
    expect(result.code).toBe(1);
    expect(normalize(result.stderr, home)).toMatchInlineSnapshot(`
      "warning: registering an ACME account without --email: the CA has no way to reach you about it (Let's Encrypt sends no expiry mail anyway); watch expiry with acmectl list --expiring 14 or your monitoring
      error: could not reach the CA at https://localhost:PORT/dir: its TLS certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)
      hint: if the CA uses a private root, pass --ca-bundle FILE with that root certificate
      "
    `);
  });

  it('a CA that does not answer', async () => {
    const home = tempDir('messages');
    const closed = await freePort();
    const result = await runCli(['issue', 'down.example.test', '--server', `https://localhost:${closed}/dir`, ...standalone(), '--agree-tos'], { home });
    expect(result.code).toBe(1);
    expect(normalize(result.stderr, home)).toMatchInlineSnapshot(`
      "warning: registering an ACME account without --email: the CA has no way to reach you about it (Let's Encrypt sends no expiry mail anyway); watch expiry with acmectl list --expiring 14 or your monitoring
      error: could not reach the CA at https://localhost:PORT/dir: connection refused
      hint: check the --server URL and this machine's network access to it
      "
    `);
  });
});

describe('messages of daily use', () => {
  it('warns once when an account is registered without --email, and not when it exists', async () => {
    const home = tempDir('messages');
    const first = await runCli(['issue', 'no-email.example.test', ...pebbleArgs(pebble), ...standalone(), '--agree-tos'], { home });
    expect(first.code).toBe(0);
    expect(first.stderr.match(/warning: registering an ACME account without --email/g)).toHaveLength(1);
    expect(first.stderr).toMatch(/acmectl list --expiring 14/);
    const second = await runCli(['issue', 'no-email-2.example.test', ...pebbleArgs(pebble), ...standalone()], { home });
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(/warning/);
  });

  it('renew prefixes every progress line with the certificate it belongs to', async () => {
    const home = tempDir('messages');
    for (const name of ['one.labels.test', 'two.labels.test']) {
      expect((await runCli(['issue', name, ...pebbleArgs(pebble), ...standalone(), '--email', 'ops@example.com', '--agree-tos'], { home })).code).toBe(0);
    }
    const result = await runCli(['renew', '--force', '--no-random-sleep', '--concurrency', '2'], { home });
    expect(result.code).toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(10);
    for (const line of lines) expect(line).toMatch(/^(one|two)\.labels\.test: /);
    for (const name of ['one', 'two']) {
      expect(lines).toContain(`${name}.labels.test: certificate issued`);
      // Pebble may reuse the authorization of the first issue: "already validated" is a validation line too.
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${name}\\.labels\\.test: ${name}\\.labels\\.test (already )?validated$`)));
    }
  });

  it('account register on a terminal prints its result line once', async () => {
    const home = tempDir('messages');
    const command = [BIN, 'account', 'register', ...pebbleArgs(pebble), '--email', 'ops@example.com', '--agree-tos'].map(shellQuote).join(' ');
    // A real pseudo-terminal of a sane size (script(1)), so that the spinner runs as it does for a person.
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'script',
        ['-qec', `stty cols 100 rows 30; exec ${shellQuote(process.execPath)} ${command}`, '/dev/null'],
        { env: { PATH: process.env.PATH, TMPDIR: process.env.TMPDIR, HOME: home, ACMECTL_HOME: home, TERM: 'xterm', NO_COLOR: '1' }, timeout: 30_000, maxBuffer: 1 << 20 },
        (error, stdout) => (error ? reject(new Error(`${error.message}\n${stdout}`)) : resolve(stdout)),
      );
    });
    const url = /https:\/\/localhost:\d+\/my-account\/[0-9a-f]+/.exec(output)?.[0];
    expect(url, output).toBeDefined();
    expect(output.split(url!).length - 1).toBe(1);
  });
});

function listenSomewhere(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
