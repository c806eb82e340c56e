import { freePort, startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../support/cli.js';
import type { CliResult } from '../support/cli.js';
import { startRateLimitingProxy } from '../support/rate-limiting-proxy.js';
import type { RateLimitingProxy } from '../support/rate-limiting-proxy.js';
import { tempDir } from '../support/temp-dir.js';

// A real CA, reachable, behind a proxy that records every request it passes on: "nothing was sent to the CA"
// is then counted, not inferred. Given first, so that a case's own --server or --ca-bundle comes later and wins.
let pebble: PebbleHandle;
let ca: RateLimitingProxy;
let CA: string[];
beforeAll(async () => {
  pebble = await startPebble();
  ca = await startRateLimitingProxy(pebble);
  CA = ['--server', ca.directoryUrl, '--ca-bundle', pebble.caBundlePath];
});
afterAll(async () => {
  await ca?.stop();
  await pebble?.stop();
});

/** Runs the CLI; `sent` is what the CA received meanwhile. */
async function runCounted(args: string[], options: Parameters<typeof runCli>[1]): Promise<CliResult & { sent: RateLimitingProxy['requests'] }> {
  const before = ca.requests.length;
  const result = await runCli(args, options);
  return { ...result, sent: ca.requests.slice(before) };
}

// A CA address where nothing listens.
const NOWHERE = ['--server', 'https://127.0.0.1:9/dir'];

const cases: [string, string[], RegExp, Record<string, string>?][] = [
  ['a wildcard', ['issue', '*.example.com'], /wildcard.*HTTP-01 cannot validate/],
  ['a malformed name', ['issue', 'bad_name.example.com'], /not a valid domain name/],
  ['a name with a scheme', ['issue', 'https://example.com/'], /not a domain name/],
  ['a duplicate name', ['issue', 'a.example.com', 'A.example.com'], /duplicate name/],
  ['a label that is too long', ['issue', `${'a'.repeat(64)}.example.com`], /longer than 63/],
  ['a name that is too long', ['issue', `${'abcdefghi.'.repeat(25)}example.com`], /too long/],
  ['no name at all', ['issue'], /missing required argument/],
  ['an unknown key type', ['issue', 'x.example.com', '--key-type', 'dsa'], /--key-type.*dsa.*invalid|Allowed choices/i],
  ['a port out of range', ['issue', 'x.example.com', '--http-port', '70000'], /--http-port: expected a whole number from 1 to 65535/],
  ['a port that is not a number', ['issue', 'x.example.com', '--http-port', 'eighty'], /--http-port: expected a whole number/],
  ['a webroot that does not exist', ['issue', 'x.example.com', '--webroot', '/nonexistent/www'], /--webroot \/nonexistent\/www does not exist/],
  ['--standalone with --webroot', ['issue', 'x.example.com', '--standalone', '--webroot', '/tmp'], /exclude each other/],
  ['a plain-http CA', ['issue', 'x.example.com', '--server', 'http://ca.example.com/dir'], /must start with https/],
  ['an unknown CA name', ['issue', 'x.example.com', '--server', 'letsencrypt-prod'], /neither a known CA nor a URL/],
  ['a bad store URL', ['issue', 'x.example.com', '--store', 'bogus:thing'], /unknown store URL scheme/],
  ['a missing CA bundle', ['issue', 'x.example.com', '--ca-bundle', '/nonexistent/ca.pem'], /--ca-bundle \/nonexistent\/ca\.pem cannot be read/],
  ['no account and no --agree-tos', ['issue', 'x.example.com'], /no ACME account .* yet/],
  ['a bad email', ['issue', 'x.example.com', '--agree-tos', '--email', 'not-an-email'], /--email "not-an-email" is not an email address/],
  ['half of an EAB pair', ['issue', 'x.example.com', '--agree-tos', '--eab-kid', 'kid-1'], /--eab-kid needs --eab-hmac-key/],
  ['a certificate name with a path', ['issue', 'x.example.com', '--name', '../etc'], /cannot be a certificate name/],
  ['an unknown option', ['issue', 'x.example.com', '--colour'], /unknown option '--colour'/],
  ['a missing config file', ['issue', 'x.example.com', '--config', '/nonexistent/acmectl.json'], /config file .* does not exist/],
  ['a bad listen address', ['issue', 'x.example.com', '--http-address', 'localhost'], /--http-address "localhost" is not an IP address/],
  ['a bad environment value', ['issue', 'x.example.com'], /environment variable ACMECTL_KEY_TYPE: expected one of/, { ACMECTL_KEY_TYPE: 'rsa1024' }],
  ['a bad --expiring', ['list', '--expiring', 'soon'], /--expiring takes a number of days/],
  ['account register without --agree-tos', ['account', 'register', '--email', 'a@example.com'], /needs your agreement/],
];

interface Snapshot {
  files: string[];
  entries: Record<string, string>;
}

async function snapshot(home: string): Promise<Snapshot> {
  const files = existsSync(home) ? readdirSync(home, { recursive: true }).map(String).filter((f) => !/acmectl\.db-(wal|shm)$/.test(f)).sort() : [];
  const entries: Record<string, string> = {};
  if (existsSync(join(home, 'acmectl.db'))) {
    const store = await openStore(`sqlite:${join(home, 'acmectl.db')}`);
    try {
      for await (const key of store.list('')) entries[key] = (await store.get(key))!.rev;
    } finally {
      await store.close();
    }
  }
  return { files, entries };
}

describe('bad input exits 2 before anything is sent to the CA or stored', () => {
  let populated: string;
  beforeAll(async () => {
    // A store that already holds an account and a certificate-like entry.
    populated = tempDir('bad');
    const store = await openStore(`sqlite:${join(populated, 'acmectl.db')}`);
    await store.put('accounts/x/ops@example.com', Buffer.from('{}'));
    await store.put('certs/keep.example.com', Buffer.from('{}'));
    await store.close();
  });

  it.each(cases)('%s', async (_what, args, message, env) => {
    // 1. With no store yet: none is created, and the CA hears nothing.
    const empty = tempDir('bad');
    const fresh = await runCounted([...CA, ...args], { home: empty, env });
    expect(fresh.sent).toEqual([]);
    expect(fresh.stderr).toMatch(message);
    expect(fresh.code).toBe(2);
    expect(existsSync(join(empty, 'acmectl.db'))).toBe(false);
    expect(existsSync(join(empty, 'live'))).toBe(false);

    // 2. With a populated store: every entry keeps its revision, no file appears, the CA hears nothing.
    const before = await snapshot(populated);
    const result = await runCounted([...CA, ...args], { home: populated, env });
    expect(result.sent).toEqual([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(await snapshot(populated)).toEqual(before);
  });

  it('is checked against a CA that does answer: the same command, corrected, reaches it', async () => {
    // Without this, a proxy that passed nothing on would make every case above pass.
    const result = await runCounted(['account', 'register', ...CA, '--email', 'a@example.com', '--agree-tos'], { home: tempDir('bad') });
    expect(result.code, result.stderr).toBe(0);
    expect(result.sent.length).toBeGreaterThan(0);
  });

  it('names the key and the file for a bad config file', async () => {
    const home = tempDir('bad');
    const project = join(home, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'acmectl.config.json'), JSON.stringify({ httpPort: 'eighty' }));
    const result = await runCounted(['issue', 'x.example.com', ...CA], { home, cwd: project });
    expect(result.sent).toEqual([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`key "httpPort" in config file ${join(project, 'acmectl.config.json')}: expected a whole number`);
    writeFileSync(join(project, 'acmectl.config.json'), JSON.stringify({ httpPrt: 80 }));
    const typo = await runCounted(['issue', 'x.example.com', ...CA], { home, cwd: project });
    expect(typo.sent).toEqual([]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown key "httpPrt"/);
    expect(existsSync(join(home, 'acmectl.db'))).toBe(false);
  });

  it('reports an unreachable CA as a failed operation (exit 1), not as bad input', async () => {
    const home = tempDir('bad');
    const result = await runCli(['issue', 'x.example.com', '--agree-tos', '--http-port', String(await freePort()), ...NOWHERE], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/could not reach the CA at https:\/\/127\.0\.0\.1:9\/dir: connection refused/);
  });
});
