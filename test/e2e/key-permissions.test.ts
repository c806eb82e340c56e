import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { BIN, cliEnv, pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

// Debian's base system always has the group "daemon" (gid 1); "nogroup" is another that is not it.
const GROUP = 'daemon';
const gidOf = (group: string): number => Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);

let pebble: PebbleHandle;
let home: string;
let out: string;
beforeAll(async () => {
  pebble = await startPebble();
  home = tempDir('key-permissions');
  out = join(tempDir('key-permissions-out'), 'live');
  // The unprivileged reader below must be able to walk down to the export directory.
  for (let dir = dirname(out); dir !== '/'; dir = dirname(dir)) if (statSync(dir).uid === process.getuid!()) chmodSync(dir, statSync(dir).mode | 0o001);
});
afterAll(async () => pebble?.stop());

const issue = (extra: string[]) =>
  runCli(['issue', 'keys.example.test', ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos', '--out', out, ...extra], { home });
const modeOf = (path: string): number => statSync(path).mode & 0o7777;
/** Reads a file as user nobody with only `group` (setpriv from util-linux): what a service in that group can read. */
const readsAs = (group: string, path: string): boolean => spawnSync('setpriv', ['--reuid=nobody', `--regid=${group}`, '--clear-groups', 'cat', path], { stdio: 'ignore' }).status === 0;

describe('--key-group and --key-mode', () => {
  it('gives the key files the group and mode asked, and the directories on their way only the traverse bit', async () => {
    const result = await issue(['--key-group', GROUP, '--key-mode', '0640', '--format', 'combined']);
    expect(result.code, result.stderr).toBe(0);
    const live = join(out, 'keys.example.test');
    for (const file of ['privkey.pem', 'combined.pem']) {
      expect(modeOf(join(live, file)), file).toBe(0o640);
      expect(statSync(join(live, file)).gid, file).toBe(gidOf(GROUP));
    }
    expect(modeOf(join(live, 'fullchain.pem'))).toBe(0o644);
    for (const dir of [join(out, '.versions'), join(out, '.versions', 'keys.example.test'), join(out, '.versions', 'keys.example.test', '1')]) {
      expect(modeOf(dir), dir).toBe(0o710);
      expect(statSync(dir).gid, dir).toBe(gidOf(GROUP));
    }
    expect(modeOf(out) & 0o077).toBe(0o010);
    // A service running as another user in the group reads the key; one outside the group does not.
    expect(readsAs(GROUP, join(live, 'privkey.pem'))).toBe(true);
    expect(readsAs('nogroup', join(live, 'privkey.pem'))).toBe(false);
    expect(readsAs('nogroup', join(live, 'fullchain.pem'))).toBe(false); // the directories let only the group through
  });

  it('keeps them at renewal (stored), and narrows back to 0600 when issued again without them', async () => {
    const renewed = await runCli(['renew', '--force'], { home });
    expect(renewed.code, renewed.stderr).toBe(0);
    const live = join(out, 'keys.example.test');
    expect(modeOf(join(live, 'privkey.pem'))).toBe(0o640);
    expect(modeOf(join(out, '.versions', 'keys.example.test', '2'))).toBe(0o710);
    const show = JSON.parse((await runCli(['show', 'keys.example.test', '--json'], { home })).stdout) as { settings: { keyGroup: string; keyMode: string } };
    expect(show.settings).toMatchObject({ keyGroup: GROUP, keyMode: '0640' });

    const narrowed = await issue(['--force']);
    expect(narrowed.code, narrowed.stderr).toBe(0);
    expect(modeOf(join(live, 'privkey.pem'))).toBe(0o600);
    expect(modeOf(join(out, '.versions', 'keys.example.test'))).toBe(0o700);
    expect(readsAs(GROUP, join(live, 'privkey.pem'))).toBe(false);
  });

  it.each([
    [['--key-group', 'no-such-group-acmectl'], /there is no group named "no-such-group-acmectl"/],
    [['--key-mode', '0666'], /--key-mode "0666" is not a mode for a private key/],
    [['--key-mode', '0755'], /is not a mode for a private key/],
    [['--key-mode', 'rw-r-----'], /is not a mode for a private key/],
    [['--key-group', 'bad group'], /is not a group name/],
  ])('refuses %j with exit 2 before anything is sent', async (flags, message) => {
    const result = await runCli(['issue', 'refused.example.test', ...pebbleArgs(pebble), '--agree-tos', ...flags], { home: tempDir('key-permissions-refused') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/order|account/i);
  });
});

describe('under umask 000', () => {
  it('keeps privkey.pem 0600, the directories 0700 and the SQLite store 0600', async () => {
    // A data directory acmectl creates itself (below a fresh home), so that its own mode is acmectl's doing.
    const data = join(tempDir('umask'), 'data');
    const args = ['issue', 'umask.example.test', ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'];
    const quoted = args.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
    const run = spawnSync('sh', ['-c', `umask 000; exec '${process.execPath}' '${BIN}' ${quoted}`], { env: cliEnv({ home: data }), cwd: dirname(data), encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);

    const live = join(data, 'live');
    const versions = join(live, '.versions', 'umask.example.test');
    expect(modeOf(join(live, 'umask.example.test', 'privkey.pem'))).toBe(0o600);
    expect(modeOf(join(versions, '1', 'privkey.pem'))).toBe(0o600);
    for (const dir of [data, live, join(live, '.versions'), versions, join(versions, '1')]) expect(modeOf(dir), dir).toBe(0o700);
    for (const file of readdirSync(data).filter((name) => name.startsWith('acmectl.db'))) expect(modeOf(join(data, file)), file).toBe(0o600);
    expect(readdirSync(data)).toContain('acmectl.db');
  });
});
