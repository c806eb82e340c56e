/**
 * `--json` output that scripts can trust (docs/json.md): every command of the built CLI, run against a real
 * Pebble, prints exactly one JSON document on stdout (the whole of stdout parses, nothing else is there: no
 * progress, no hook output, no warning) in success and in failure, and that document is valid against the
 * command's JSON Schema in docs/json/ under a real validator. The last test checks that every command of the
 * program tree was run here with a result and with wrong input, so a new command cannot skip this.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Command as Commander } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPebble, withPebble } from '../support/pebble.js';
import type { PebbleHandle } from '../support/pebble.js';
import { buildProgram } from '../../src/cli/program.js';
import { visibleSubcommands } from '../../src/cli/visible-commands.js';
import { BIN, cliEnv, pebbleArgs, runCli } from '../support/cli.js';
import { describeErrors, documentSchema, SCHEMA_ID_BASE, schemaValidator } from '../support/json-schemas.js';
import { tempDir } from '../support/temp-dir.js';

/** A parsed document, read field by field. */
type Json = Record<string, any>;
type Case = 'result' | 'usage error' | 'operational error';

let pebble: PebbleHandle;
const home = tempDir('json-schemas');
beforeAll(async () => {
  pebble = await startPebble();
});
afterAll(async () => pebble?.stop());

const ajv = schemaValidator();
/** What each command was seen to print here: its result, an error document for wrong input, one for a failure. */
const seen = new Map<string, Set<Case>>();

/**
 * Checks one run's stdout: a single JSON document (JSON.parse of the whole of it, which fails on anything before
 * or after the document) that the command's schema accepts; the error document's exit code is the process's.
 */
function checkDocument(command: string, result: { code: number; stdout: string; stderr: string }): Json {
  expect(result.stdout, `${command}: stdout ends with the document's newline\n${result.stderr}`).toMatch(/^\{[\s\S]*\}\n$/);
  const document = JSON.parse(result.stdout) as Json;
  const validate = documentSchema(ajv, command);
  expect(validate(document), `${command} --json against docs/json: ${describeErrors(validate.errors)}\n${result.stdout}`).toBe(true);
  const kind: Case = 'error' in document ? (document.error.exitCode === 2 ? 'usage error' : 'operational error') : 'result';
  if ('error' in document) {
    expect(document.ok).toBe(false);
    expect(result.code, result.stderr).toBe(document.error.exitCode);
    // People still get the message on stderr.
    expect(result.stderr).toContain(`error: ${document.error.message.split('\n')[0]}`);
  }
  if (!seen.has(command)) seen.set(command, new Set());
  seen.get(command)!.add(kind);
  return document;
}

/** Runs `acmectl <command> ...args --json` against the test Pebble and checks what it printed. */
async function json(command: string, args: string[], expected: { code: number }, env: Record<string, string> = {}): Promise<Json> {
  const result = await runCli([...command.split(' '), ...args, ...pebbleArgs(pebble), '--json'], { home, env });
  expect(result.code, `${command} ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(expected.code);
  return checkDocument(command, result);
}

const standalone = () => ['--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'];
const MAIN = 'main.json.test';
const HOOKED = 'hooked.json.test';

describe('acmectl --json, every command against its schema in docs/json/', () => {
  it('before anything exists: list, account list and renew print their empty documents', async () => {
    expect((await json('list', [], { code: 0 })).certificates).toEqual([]);
    expect((await json('account list', [], { code: 0 })).accounts).toEqual([]);
    expect(await json('renew', ['--no-random-sleep'], { code: 0 })).toEqual({ ok: true, dryRun: false, renewed: [], notDue: [], heldBack: [], failed: [], hooks: [] });
  });

  it('account register, ca', async () => {
    expect((await json('account register', ['--email', 'ops@example.com', '--agree-tos'], { code: 0 })).outcome).toBe('registered');
    expect((await json('account register', ['--email', 'ops@example.com', '--agree-tos'], { code: 0 })).outcome).toBe('exists');
    expect((await json('ca', [], { code: 0 })).server).toBe(pebble.directoryUrl);
  });

  it('issue: issued (a hook printing on stdout does not reach acmectl\'s stdout), unchanged, expanded, dry run, a failed hook', async () => {
    const hook = 'echo deploy-hook-stdout; echo deploy-hook-stderr >&2';
    const issued = await json('issue', [MAIN, `www.${MAIN}`, ...standalone(), '--email', 'ops@example.com', '--deploy-hook', hook], { code: 0 });
    expect(issued).toMatchObject({ ok: true, outcome: 'issued', name: MAIN, version: 1, hooks: [{ kind: 'deploy', ok: true, outputTail: 'deploy-hook-stdout\ndeploy-hook-stderr' }] });

    expect(await json('issue', [MAIN, `www.${MAIN}`, ...standalone(), '--email', 'ops@example.com'], { code: 0 })).toMatchObject({ outcome: 'unchanged', filesUpdated: false });
    expect(await json('issue', [MAIN, `www.${MAIN}`, `api.${MAIN}`, ...standalone(), '--email', 'ops@example.com'], { code: 0 })).toMatchObject({
      outcome: 'issued',
      version: 2,
      expandedWith: [`api.${MAIN}`],
    });
    const dryRun = await json('issue', [MAIN, `www.${MAIN}`, `api.${MAIN}`, ...standalone(), '--email', 'ops@example.com', '--dry-run', '--force'], { code: 0 });
    expect(dryRun.outcome).toBe('dry-run');
    expect(dryRun).not.toHaveProperty('files');

    // The certificate is obtained; the hook's failure makes the run exit 1 with ok false, still one document.
    const hooked = await json('issue', [HOOKED, ...standalone(), '--email', 'ops@example.com', '--post-hook', 'echo post-hook-stdout; exit 3'], { code: 1 });
    expect(hooked).toMatchObject({ ok: false, outcome: 'issued', hooks: [{ kind: 'post', ok: false, exitCode: 3 }] });
  });

  it('issue: a validation the CA failed is the error document with the CA\'s problem', async () => {
    // acmectl listens on another port than the one Pebble connects to: the CA's request is refused.
    const failed = await json('issue', ['wrong-port.json.test', '--http-port', String(await freePort()), '--http-address', '127.0.0.1', '--email', 'ops@example.com'], { code: 1 });
    expect(failed.error.problem.type).toMatch(/^urn:ietf:params:acme:error:/);
  });

  it('renew: renewed, not due, and a run whose hook failed (ok false, exit 1)', async () => {
    const renewed = await json('renew', [MAIN, '--force', '--no-random-sleep'], { code: 0 });
    expect(renewed).toMatchObject({ ok: true, dryRun: false, renewed: [{ name: MAIN, reason: 'forced (--force)' }], failed: [] });
    const notDue = await json('renew', ['--no-random-sleep'], { code: 0 });
    expect(notDue.notDue.map((i: Json) => i.outcome)).toEqual(['unchanged', 'unchanged']);
    const withFailedHook = await json('renew', ['--force', '--no-random-sleep'], { code: 1 });
    expect(withFailedHook).toMatchObject({ ok: false, failed: [] });
    expect(withFailedHook.renewed).toHaveLength(2);
    expect(withFailedHook.hooks.filter((h: Json) => !h.ok)).toHaveLength(1);
  });

  it('list: --json, --format json, --expiring (exit 1 with the list), --format prometheus --output', async () => {
    const listed = await json('list', [], { code: 0 });
    expect(listed.certificates.map((c: Json) => c.name)).toEqual([HOOKED, MAIN]);

    // --format json is --json: the same document, without --json.
    const formatJson = await runCli(['list', '--format', 'json'], { home });
    expect(formatJson.code).toBe(0);
    expect(checkDocument('list', formatJson)).toEqual(listed);

    expect((await json('list', ['--expiring', '100000'], { code: 1 })).certificates).toHaveLength(2);
    const output = join(home, 'metrics.prom');
    expect(await json('list', ['--format', 'prometheus', '--output', output], { code: 0 })).toEqual({ ok: true, output, certificates: 2 });
    expect(readFileSync(output, 'utf8')).toContain('acmectl_certificates 2');
  });

  it('import certbot --dry-run: one lineage to import with its account and mapped settings, two left alone with the reason', async () => {
    const certbot = certbotLayout(join(home, 'letsencrypt'));
    const planned = await json('import certbot', [certbot, '--dry-run'], { code: 0 });
    expect(planned).toMatchObject({ ok: true, dryRun: true, directory: certbot, nextSteps: [], accounts: [{ certbotId: CERTBOT_ACCOUNT, action: 'import' }] });
    expect(planned.certbotHookScripts).toEqual([{ kind: 'deploy', path: join(certbot, 'renewal-hooks', 'deploy', 'reload.sh') }]);
    const byName = new Map(planned.lineages.map((l: Json) => [l.name, l]));
    expect(byName.get('adoptable.json.test')).toMatchObject({ action: 'import', reason: null, domains: expect.arrayContaining([MAIN, `www.${MAIN}`, `api.${MAIN}`]), settings: { challenge: 'standalone', hooks: { deploy: 'systemctl reload nginx' } } });
    expect(byName.get('by-hand.json.test')).toMatchObject({ action: 'skipped', reason: expect.stringContaining('manual'), current: { version: 1 }, settings: null });
    expect(byName.get('no-archive.json.test')).toMatchObject({ action: 'skipped', reason: expect.stringMatching(/archive/), current: null });
    // A dry run writes nothing: the store still holds only the certificates issued here.
    expect((await json('list', [], { code: 0 })).certificates.map((c: Json) => c.name)).toEqual([HOOKED, MAIN]);
  });

  it('doctor: its report, with ok false and exit 1 when a check fails (a standalone certificate\'s port is taken)', async () => {
    // This machine's checks may fail here (a port or a directory of the host): the document is valid either way.
    const general = await runCli(['doctor', '--http-port', String(await freePort()), '--http-address', '127.0.0.1', ...pebbleArgs(pebble), '--json'], { home });
    const report = checkDocument('doctor', general);
    expect(report.ok, general.stdout).toBe(general.code === 0);
    expect(report.cas.map((ca: Json) => ca.server)).toEqual([pebble.directoryUrl]);
    expect(report.checks.map((c: Json) => c.certificate)).toEqual(expect.arrayContaining([null, MAIN, HOOKED]));

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(pebble.httpPort, '127.0.0.1', resolve));
    try {
      const failed = await json('doctor', [MAIN], { code: 1 });
      expect(failed.ok).toBe(false);
      expect(failed.checks).toContainEqual(expect.objectContaining({ name: 'http-port', certificate: MAIN, verdict: 'fail', fix: expect.any(String) }));
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('schedule install --cron, again (refused: exit 1), status, remove, all under --root', async () => {
    const root = join(home, 'schedule-root');
    const installed = await json('schedule install', ['--cron', '--root', root], { code: 0 });
    expect(installed).toEqual({ ok: true, method: 'cron', files: [join(root, 'etc', 'cron.d', 'acmectl')], activated: true, nextSteps: [] });
    expect((await json('schedule install', ['--cron', '--root', root], { code: 1 })).error.message).toMatch(/already installed/);
    const status = await json('schedule status', ['--root', root], { code: 0 });
    expect(status).toMatchObject({ schedules: [{ client: 'acmectl', kind: 'cron', path: installed.files[0] }], nextRun: expect.any(String), lastRun: { exitCode: 1 } });
    expect(await json('schedule remove', ['--root', root], { code: 0 })).toEqual({ ok: true, removed: installed.files });
    expect(await json('schedule status', ['--root', root], { code: 0 })).toMatchObject({ schedules: [], nextRun: null });
  });

  it('show, show --pem, export (also an earlier version and --format combined)', async () => {
    const shown = await json('show', [MAIN], { code: 0 });
    expect(shown).toMatchObject({ name: MAIN, status: 'valid', version: 4, renewalInfo: null, lastAttempt: { ok: true } });
    expect(shown.versions.map((v: Json) => v.version)).toEqual([4, 3, 2, 1]);
    expect((await json('show', [MAIN, '--pem'], { code: 0 })).certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);

    const out = join(home, 'exported');
    const exported = await json('export', [MAIN, '--out', out, '--format', 'combined,pkcs12'], { code: 0 }, { ACMECTL_PKCS12_PASSWORD: 'changeit' });
    expect(exported.files).toMatchObject({ dir: join(out, MAIN), combined: join(out, MAIN, 'combined.pem'), pkcs12: join(out, MAIN, 'certificate.p12') });
    expect(await json('export', [MAIN, '--out', out, '--version', '1'], { code: 0 })).toMatchObject({ version: 1 });
  });

  it('config show, config check, completion', async () => {
    const config = await json('config show', [], { code: 0 });
    expect(config.settings.server).toEqual({ value: pebble.directoryUrl, source: 'flag' });
    writeFileSync(join(home, 'acmectl.config.json'), JSON.stringify({ hookTimeout: 60 }));
    expect((await json('config check', [], { code: 0 })).configFile).toBe(join(home, 'acmectl.config.json'));
    expect((await json('config show', [], { code: 0 }, { ACMECTL_EAB_HMAC_KEY: 'c2VjcmV0' })).settings).toMatchObject({
      eabHmacKey: { value: '***', source: 'env' },
      hookTimeout: { value: 60, source: 'file' },
    });
    expect((await json('completion', ['bash'], { code: 0 })).script).toContain('complete');
  });

  it('store copy: copied, unchanged, and a conflict (ok false, exit 1)', async () => {
    const to = `sqlite:${join(home, 'copy.db')}`;
    expect((await json('store copy', ['--to', to], { code: 0 })).copied.length).toBeGreaterThan(0);
    expect((await json('store copy', ['--to', to], { code: 0 })).copied).toEqual([]);
    await json('renew', [MAIN, '--force', '--no-random-sleep'], { code: 0 });
    expect(await json('store copy', ['--to', to], { code: 1 })).toMatchObject({ ok: false, conflicts: [expect.stringContaining(MAIN)] });
  });

  it('account show, update, rollover', async () => {
    expect((await json('account show', [], { code: 0 })).account).toMatchObject({ status: 'valid', storeStatus: 'valid', email: 'ops@example.com' });
    expect((await json('account update', ['--email', 'new@example.com'], { code: 0 })).account).toMatchObject({ email: 'new@example.com', previousEmail: 'ops@example.com' });
    expect(await json('account rollover', ['--email', 'new@example.com'], { code: 0 })).toMatchObject({ outcome: 'rolled-over' });
    expect((await json('account show', ['--email', 'new@example.com'], { code: 0 })).account.formerEmails).toEqual(['ops@example.com']);
  });

  it('revoke, delete', async () => {
    expect(await json('revoke', [MAIN, '--reason', 'superseded'], { code: 0 })).toMatchObject({ reason: 'superseded', deleted: false });
    expect((await json('list', [], { code: 0 })).certificates.find((c: Json) => c.name === MAIN).status).toBe('revoked');
    const deleted = await json('delete', [MAIN, '--files'], { code: 0 });
    expect(deleted.removedFiles.length).toBeGreaterThan(0);
    expect(await json('delete', [HOOKED], { code: 0 })).toEqual({ ok: true, name: HOOKED, removedFiles: [] });
  });

  it('account deactivate: deactivated, already deactivated; account show and list then', async () => {
    expect(await json('account deactivate', ['--email', 'new@example.com', '--yes'], { code: 0 })).toMatchObject({ outcome: 'deactivated', status: 'deactivated' });
    expect((await json('account deactivate', ['--email', 'new@example.com', '--yes'], { code: 0 })).outcome).toBe('already-deactivated');
    const shown = (await json('account show', ['--email', 'new@example.com'], { code: 0 })).account;
    expect(shown).toMatchObject({ status: null, contact: null, storeStatus: 'deactivated', caProblem: { type: 'urn:ietf:params:acme:error:unauthorized' } });
    expect((await json('account list', [], { code: 0 })).accounts.map((a: Json) => a.status)).toEqual(['deactivated']);
    // A new registration for the same CA and email replaces the deactivated account in the store.
    const again = await json('account register', ['--email', 'new@example.com', '--agree-tos'], { code: 0 });
    expect(again).toMatchObject({ outcome: 'registered', replaced: shown.url });
  });

  it('serve: nothing on stdout while it runs, its document once SIGTERM stops it; a taken port is the error document', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve', '--http-port', String(port), '--http-address', '127.0.0.1', '--json'], { env: cliEnv({ home }), cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit') as Promise<[number | null]>;
    try {
      const deadline = Date.now() + 15_000;
      while (!stderr.includes('answering HTTP-01 challenges')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`acmectl serve did not start:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(stdout).toBe('');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await exited;
    expect(checkDocument('serve', { code: code ?? -1, stdout, stderr })).toEqual({ ok: true, store: `sqlite:${join(home, 'acmectl.db')}`, port, addresses: ['127.0.0.1'] });
    expect(code).toBe(0);

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      await json('serve', ['--http-port', String(port), '--http-address', '127.0.0.1'], { code: 1 });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('a CA that cannot be reached is the error document (exit 1): ca, account register', async () => {
    const nowhere = `https://127.0.0.1:${await freePort()}/dir`;
    const failed = await runCli(['ca', '--server', nowhere, '--json'], { home });
    expect(checkDocument('ca', failed).error.message).toMatch(/could not reach the CA/);
    const register = await runCli(['account', 'register', '--server', nowhere, '--email', 'x@example.com', '--agree-tos', '--json'], { home });
    expect(checkDocument('account register', register).error.exitCode).toBe(1);
  });

  // Input the command itself refuses (exit 2, nothing sent or written) is the error document too, and so is
  // input the argument parser refuses (an unknown option, a missing argument, a value not among the choices).
  const USAGE_ERRORS: [string, string[], Record<string, string>?][] = [
    ['issue', ['not a name!']],
    ['renew', ['--days', 'x']],
    ['list', ['--expiring', 'x']],
    ['show', ['no-such.json.test']],
    ['serve', ['--http-port', '0']],
    ['export', ['no-such.json.test', '--version', '0']],
    ['revoke', ['no/such']],
    ['delete', ['no/such']],
    ['store copy', []],
    ['config show', ['--store', 'bogus://x']],
    ['config check', [], { ACMECTL_HTTP_PORT: 'eighty' }],
    ['ca', ['--server', 'not-a-ca']],
    ['account register', ['--email', 'not-an-email']],
    ['account list', ['--store', 'bogus://x']],
    ['account show', ['--email', 'not-an-email']],
    ['account update', []],
    ['account rollover', ['--email', 'not-an-email']],
    ['account deactivate', []],
    ['doctor', ['no-such.json.test']],
    ['import certbot', [home]],
    ['schedule install', ['--systemd', '--cron']],
    ['schedule status', ['--root', '']],
    ['schedule remove', ['--root', '']],
    ['list', ['--no-such-option']],
    ['show', []],
    ['completion', ['tcsh']],
  ];
  it.each(USAGE_ERRORS)('%s with wrong input: the error document, exit 2', async (command, args, env = {}) => {
    const result = await runCli([...command.split(' '), ...args, '--json'], { home, env });
    expect(checkDocument(command, result).error.exitCode, result.stderr).toBe(2);
  });

  it('no command at all, with --json: the error document, exit 2', async () => {
    const result = await runCli(['--json'], { home });
    expect(result.code).toBe(2);
    const validate = ajv.getSchema(`${SCHEMA_ID_BASE}error.json`)!;
    expect(validate(JSON.parse(result.stdout)), describeErrors(validate.errors)).toBe(true);
  });

  it('ran every command of the program tree with a result and with wrong input', () => {
    const commands = leafCommands(buildProgram(async () => {}));
    for (const command of commands) {
      const cases = [...(seen.get(command) ?? [])].sort();
      expect(cases, command).toEqual(expect.arrayContaining(['result', 'usage error']));
    }
    expect([...seen.entries()].filter(([, cases]) => cases.has('operational error')).map(([command]) => command).sort()).toEqual(['account register', 'ca', 'issue', 'schedule install', 'serve']);
  });
});

// A CA with renewal information (ARI) and profiles: the documents' parts that only such a CA fills.
describe('acmectl --json with a CA that offers ARI and profiles', () => {
  const ari = withPebble({ version: 'ari', profiles: { classic: { description: '90 days', validityPeriod: 90 * 86_400 } } });
  const ariHome = tempDir('json-schemas-ari');
  const run = async (command: string, args: string[], code = 0): Promise<Json> => {
    const result = await runCli([...command.split(' '), ...args, ...pebbleArgs(ari()), '--json'], { home: ariHome });
    expect(result.code, result.stderr).toBe(code);
    return checkDocument(command, result);
  };

  it('ca lists the profiles; show has the stored ARI window, the renewal rule ari and the profile', async () => {
    expect(await run('ca', [])).toMatchObject({ renewalInfo: true, profiles: { classic: '90 days' } });
    const args = ['--http-port', String(ari().httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos', '--profile', 'classic'];
    expect((await run('issue', ['ari.json.test', ...args])).outcome).toBe('issued');
    const start = new Date(Date.now() + 20 * 86_400_000);
    await ari().setRenewalInfo(readFileSync(join(ariHome, 'live', 'ari.json.test', 'cert.pem'), 'utf8'), { start, end: new Date(start.getTime() + 2 * 86_400_000), explanationURL: 'https://ca.example.test/why' });
    expect((await run('renew', ['--no-random-sleep'])).notDue).toEqual([{ name: 'ari.json.test', outcome: 'unchanged', renewalTime: expect.any(String) }]);
    const shown = await run('show', ['ari.json.test']);
    expect(shown).toMatchObject({ renewal: { rule: 'ari' }, renewalInfo: { explanationURL: 'https://ca.example.test/why' }, settings: { profile: 'classic' } });
  });
});

const CERTBOT_ACCOUNT = '0123abcd';

/**
 * A minimal certbot configuration directory (/etc/letsencrypt's layout) made of the certificate issued here as
 * MAIN: adoptable.json.test (standalone, an account of another CA, so nothing clashes with the store's), the
 * same archive answered by hand (manual: left alone), and a lineage without an archive; a deploy hook script.
 */
function certbotLayout(dir: string): string {
  const caDirectory = 'https://ca.certbot.json.test/directory';
  const live = join(home, 'live', MAIN);
  const archive = (name: string): void => {
    mkdirSync(join(dir, 'archive', name), { recursive: true });
    for (const file of ['cert', 'chain', 'fullchain', 'privkey']) copyFileSync(join(live, `${file}.pem`), join(dir, 'archive', name, `${file}1.pem`));
  };
  const renewal = (name: string, authenticator: string, extra = ''): void =>
    writeFileSync(join(dir, 'renewal', `${name}.conf`), `version = 2.9.0\narchive_dir = ${join(dir, 'archive', name)}\n\n[renewalparams]\nauthenticator = ${authenticator}\nserver = ${caDirectory}\naccount = ${CERTBOT_ACCOUNT}\n${extra}`);
  mkdirSync(join(dir, 'renewal'), { recursive: true });
  archive('adoptable.json.test');
  renewal('adoptable.json.test', 'standalone', 'renew_hook = systemctl reload nginx\n');
  archive('by-hand.json.test');
  renewal('by-hand.json.test', 'manual');
  renewal('no-archive.json.test', 'standalone');

  const account = join(dir, 'accounts', 'ca.certbot.json.test', 'directory', CERTBOT_ACCOUNT);
  mkdirSync(account, { recursive: true });
  writeFileSync(join(account, 'regr.json'), JSON.stringify({ uri: 'https://ca.certbot.json.test/acct/1', body: { contact: ['mailto:certbot@example.com'] } }));
  writeFileSync(join(account, 'private_key.json'), JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })));
  writeFileSync(join(account, 'meta.json'), JSON.stringify({ creation_dt: '2025-01-02T03:04:05Z' }));
  mkdirSync(join(dir, 'renewal-hooks', 'deploy'), { recursive: true });
  writeFileSync(join(dir, 'renewal-hooks', 'deploy', 'reload.sh'), '#!/bin/sh\n');
  chmodSync(join(dir, 'renewal-hooks', 'deploy', 'reload.sh'), 0o755);
  return dir;
}

function leafCommands(command: Commander, path: string[] = []): string[] {
  return visibleSubcommands(command).flatMap((c) => (c.commands.length === 0 ? [[...path, c.name()].join(' ')] : leafCommands(c, [...path, c.name()])));
}
