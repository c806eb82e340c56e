import { spawn } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/pebble.js';
import { BIN, cliEnv, runCli } from '../support/cli.js';
import type { CliResult } from '../support/cli.js';
import { certificateAnswer, startHostileCa } from '../support/hostile-ca-standin.js';
import type { Answer, AnswerContext, HostileCa, Script } from '../support/hostile-ca-standin.js';
import { storedCertificates, storeRevisions, treeSnapshot } from '../support/store-snapshot.js';
import { leafWith } from '../support/test-pki.js';
import { tempDir } from '../support/temp-dir.js';

// A CA is not trusted with anything (docs/cli.md#data-safety, README "What acmectl accepts from a CA"): each case below is one
// crafted answer from a stand-in CA, given to `issue --force` on a home that holds a good certificate already.
// Each must end in exit 1 with a message, no stack trace (-v is on), nothing stored and no exported file changed.

let ca: HostileCa;
/** A home with an account at the stand-in and a certificate for NAMES, exported to live/: copied for each case. */
let template: string;
const NAMES = ['hostile.example.com', 'www.hostile.example.com'];

beforeAll(async () => {
  ca = await startHostileCa();
  template = tempDir('hostile-template');
  const first = await issue(template);
  expect(first.code, first.stderr).toBe(0);
});
afterAll(async () => ca?.stop());
beforeEach(() => {
  ca.script = {};
});

async function issueArgs(extra: string[] = []): Promise<string[]> {
  return ['issue', ...NAMES, '--server', ca.directoryUrl, '--http-port', String(await freePort()), '--http-address', '127.0.0.1', '--agree-tos', '--email', 'ops@example.com', '--key-type', 'rsa2048', ...extra];
}

async function issue(home: string, extra: string[] = []): Promise<CliResult> {
  return runCli(await issueArgs(extra), { home, timeoutMs: 45_000 });
}

/** A copy of the template home, with what is in its store and under live/ before the hostile run. */
function homeWithCertificate(): { home: string; before: () => Promise<{ store: Record<string, string>; files: Record<string, string> }> } {
  const home = tempDir('hostile');
  cpSync(template, home, { recursive: true, verbatimSymlinks: true });
  return { home, before: async () => ({ store: await storedCertificates(join(home, 'acmectl.db')), files: treeSnapshot(join(home, 'live')) }) };
}

const STACK = /^\s+at .+[(:]\d+/m;

async function expectRefused(script: Script, message: RegExp, extra: string[] = []): Promise<CliResult> {
  const { home, before } = homeWithCertificate();
  const snapshot = await before();
  ca.script = script;
  const result = await issue(home, ['--force', '-v', ...extra]);
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(STACK);
  expect(result.stderr).not.toMatch(/TypeError|ReferenceError|SyntaxError/);
  expect(await before(), 'nothing stored, no exported file changed').toEqual(snapshot);
  return result;
}

/** The honest answer with `change` applied to its JSON body. */
const altered =
  (change: (body: Record<string, any>, context: AnswerContext) => unknown) =>
  (context: AnswerContext): Answer => {
    const body = structuredClone(context.honest.body) as Record<string, any>;
    const changed = change(body, context);
    return { ...context.honest, body: changed === undefined ? body : changed };
  };

/** A chain for the order's names and the CSR's key, signed by the stand-in's intermediate, with changes. */
const chain =
  (options: { dns?: (ordered: string[]) => string[]; foreignKey?: boolean; notBefore?: number; notAfter?: number; intermediate?: 'other' }) =>
  (context: AnswerContext): Answer => {
    const ordered = context.identifiers.map((i) => i.value);
    const leaf = leafWith({
      dns: options.dns ? options.dns(ordered) : ordered,
      issuer: context.pki.intermediate,
      ...(options.foreignKey ? {} : { publicKeyPem: context.csrPublicKeyPem! }),
      ...(options.notBefore !== undefined ? { notBefore: new Date(Date.now() + options.notBefore) } : {}),
      ...(options.notAfter !== undefined ? { notAfter: new Date(Date.now() + options.notAfter) } : {}),
    }).pem;
    return certificateAnswer(leaf + (options.intermediate === 'other' ? context.pki.otherIntermediate.pem : context.pki.intermediate.pem));
  };

const DAY = 86_400_000;

describe('1. a certificate that does not match the order is not stored', () => {
  it.each<[string, Script, RegExp]>([
    ['for another public key', { certificate: chain({ foreignKey: true }) }, /the certificate the CA sent is not for the key acmectl generated; it was not stored/],
    ['for another name besides', { certificate: chain({ dns: (names) => [...names, 'evil.example.net'] }) }, /the certificate the CA sent also names evil\.example\.net, which were not ordered; it was not stored/],
    ['for fewer names', { certificate: chain({ dns: (names) => names.slice(0, 1) }) }, /the certificate the CA sent does not cover www\.hostile\.example\.com; it was not stored/],
    ['for other names', { certificate: chain({ dns: () => ['evil.example.net'] }) }, /the certificate the CA sent does not cover hostile\.example\.com, www\.hostile\.example\.com; it was not stored/],
    ['expired', { certificate: chain({ notBefore: -3 * DAY, notAfter: -DAY }) }, /the certificate the CA sent expired already/],
    ['not valid yet', { certificate: chain({ notBefore: 2 * DAY, notAfter: 3 * DAY }) }, /the certificate the CA sent is valid only from/],
    ['with a chain that does not link', { certificate: chain({ intermediate: 'other' }) }, /the certificate chain the CA sent is broken: certificate 1 \(hostile\.example\.com\) was not issued by certificate 2 \(Stand-in Other Intermediate\); not storing it/],
    ['that cannot be read', { certificate: () => certificateAnswer('-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n') }, /the certificate chain the CA sent cannot be used/],
  ])('%s', async (_what, script, message) => {
    await expectRefused(script, message);
  });
});

describe('2. every request has a deadline and a size cap; a signal stops it at once', () => {
  it.each<[string, Script, RegExp, string[]]>([
    ['a directory that trickles one byte a second', { directory: () => 'trickle' }, /could not reach the CA at http:\/\/127\.0\.0\.1:\d+\/dir: no answer within 2 s/, ['--request-timeout', '2']],
    ['an order that trickles one byte a second', { newOrder: () => 'trickle' }, /could not reach the CA at http:\/\/127\.0\.0\.1:\d+\/new-order: no answer within 2 s/, ['--request-timeout', '2']],
    ['a certificate that trickles one byte a second', { certificate: () => 'trickle' }, /could not reach the CA at http:\/\/127\.0\.0\.1:\d+\/cert\/\d+: no answer within 2 s/, ['--request-timeout', '2']],
    ['an order that never ends', { newOrder: () => 'endless' }, /the CA's answer from http:\/\/127\.0\.0\.1:\d+\/new-order is larger than 1024 KiB; not reading it/, []],
    ['a certificate chain that never ends', { certificate: () => 'endless' }, /the CA's answer from http:\/\/127\.0\.0\.1:\d+\/cert\/\d+ is larger than 1024 KiB; not reading it/, []],
  ])('%s', async (_what, script, message, extra) => {
    await expectRefused(script, message, extra);
  });

  it('SIGTERM while a request is in flight ends the run at once with 143, not after the cleanup grace', async () => {
    const { home, before } = homeWithCertificate();
    const snapshot = await before();
    ca.script = { newOrder: () => 'hang' };
    const child = spawn(process.execPath, [BIN, ...(await issueArgs(['--force', '--request-timeout', '300']))], { env: cliEnv({ home }), cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await ca.requested('newOrder');
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr).toMatch(/^error: interrupted by SIGTERM while waiting for http:\/\/127\.0\.0\.1:\d+\/new-order$/m);
    expect(stderr).not.toMatch(/the cleanup did not finish/);
    expect(await before()).toEqual(snapshot);
  });
});

// ESC ] 52 (set the clipboard), BEL, an 8-bit CSI and a right-to-left override.
const EVIL = 'x\u001b]52;c;ZXZpbA==\u0007y\u009b2Jz\u202egnp.exe';
// What Node lets a server put in a header: bytes 0x80-0xff (an 8-bit CSI, and the UTF-8 bytes of U+202E).
const EVIL_HEADER_SUFFIX = '\u009b2J\u00e2\u0080\u00ae';
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function expectNoRawControls(result: CliResult): void {
  expect(result.stdout).not.toMatch(RAW_CONTROL);
  expect(result.stderr).not.toMatch(RAW_CONTROL);
}

const problem = (extra: Record<string, unknown> = {}) => ({ type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: `detail ${EVIL}`, status: 400, ...extra });

describe('3. nothing the CA sends reaches the terminal raw', () => {
  const failedValidation = altered((body) => {
    body.status = 'invalid';
    body.challenges[0].status = 'invalid';
    body.challenges[0].error = { type: `urn:ietf:params:acme:error:${EVIL}`, detail: `challenge ${EVIL}` };
  });
  it.each<[string, Script, RegExp]>([
    ['a problem detail', { newOrder: () => ({ status: 400, body: problem() }) }, /rejectedIdentifier: detail x\\u\{001b\}]52;c;ZXZpbA==\\u\{0007\}y\\u\{009b\}2Jz\\u\{202e\}gnp\.exe/],
    ['a problem type', { newOrder: () => ({ status: 400, body: problem({ type: `urn:ietf:params:acme:error:${EVIL}` }) }) }, /the CA refused creating the order: x\\u\{001b\}/],
    [
      'subproblem types, details and identifiers',
      { newOrder: () => ({ status: 400, body: problem({ subproblems: [{ type: `urn:ietf:params:acme:error:${EVIL}`, detail: EVIL, identifier: { type: 'dns', value: `www.${EVIL}` } }] }) }) },
      /^ {2}- www\.x\\u\{001b\}.*: x\\u\{001b\}.*: x\\u\{001b\}/m,
    ],
    ['a challenge error', { authorization: (context) => ((context.honest.body as any).status === 'valid' && (context.honest.body as any).identifier.value === NAMES[0] ? failedValidation(context) : context.honest) }, /validation of hostile\.example\.com failed: x\\u\{001b\}.*: challenge x\\u\{001b\}/],
    ['an order error', { order: altered((body) => ({ ...body, status: 'invalid', error: problem() })) }, /rejectedIdentifier: detail x\\u\{001b\}/],
    ['an order status', { newOrder: altered((body) => ({ ...body, status: EVIL })) }, /the CA sent an invalid order: .*x\\u\{001b\}/],
    ['an authorization identifier', { authorization: altered((body) => ({ ...body, identifier: { type: 'dns', value: EVIL } })) }, /the CA sent an invalid authorization: .*x\\u\{001b\}/],
    ['a challenge type', { authorization: altered((body) => ({ ...body, challenges: [{ ...body.challenges[0], type: EVIL }] })) }, /offered: x\\u\{001b\}/],
  ])('%s', async (_what, script, message) => {
    const result = await expectRefused(script, message);
    expectNoRawControls(result);
    const json = await runCli([...(await issueArgs(['--force', '--json'])), '--name', 'json.example.com'], { home: homeWithCertificate().home });
    expect(json.code).toBe(1);
    expectNoRawControls(json);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { exitCode: 1 } });
  });

  it('the account URL (Location) and what the CA says of the account', async () => {
    const home = tempDir('hostile');
    ca.script = {
      newAccount: (context) => ({ ...context.honest, headers: { location: `${context.base}/account/1${EVIL_HEADER_SUFFIX}` } }),
      account: () => ({ status: 200, body: { status: 'valid', contact: [`mailto:${EVIL}@example.com`] } }),
    };
    const register = await runCli(['account', 'register', '--server', ca.directoryUrl, '--email', 'evil@example.com', '--agree-tos'], { home });
    expect(register.code, register.stderr).toBe(0);
    expect(register.stdout).toMatch(/account http:\/\/127\.0\.0\.1:\d+\/account\/1\\u\{009b\}2J/);
    expectNoRawControls(register);
    for (const args of [['account', 'show'], ['account', 'list'], ['account', 'show', '--json'], ['account', 'list', '--json']]) {
      const shown = await runCli([...args, '--server', ca.directoryUrl], { home });
      expect(shown.code, shown.stderr).toBe(0);
      expectNoRawControls(shown);
    }
    ca.script.account = () => ({ status: 200, body: { status: `valid${EVIL}` } });
    const invalid = await runCli(['account', 'show', '--server', ca.directoryUrl, '-v'], { home });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error: the CA sent an invalid account: status "validx\\u\{001b\}.*" is not an ACME status$/m);
    expectNoRawControls(invalid);
    ca.script.account = () => ({ status: 403, body: { type: 'urn:ietf:params:acme:error:unauthorized', detail: `refused ${EVIL}` } });
    const refused = await runCli(['account', 'show', '--server', ca.directoryUrl], { home });
    expect(refused.stdout).toMatch(/refused by the CA: unauthorized: refused x\\u\{001b\}/);
    expectNoRawControls(refused);
  });
});

/** The honest answer with every URL on the stand-in's own origin moved to its other origin. */
function onOtherOrigin(context: AnswerContext): Answer {
  const move = (text: string): string => text.split(context.base).join(context.otherBase);
  const headers = Object.fromEntries(Object.entries(context.honest.headers ?? {}).map(([name, value]) => [name, move(value)]));
  return { ...context.honest, headers, body: JSON.parse(move(JSON.stringify(context.honest.body ?? null))) };
}

describe('4. signed requests go only to origins the directory names', () => {
  it.each<[string, Script, string]>([
    ['authorization URLs', { newOrder: altered((body, c) => ({ ...body, authorizations: body.authorizations.map((url: string) => url.replace(c.base, c.otherBase)) })) }, 'authz'],
    ['a challenge URL', { authorization: altered((body, c) => ({ ...body, challenges: [{ ...body.challenges[0], url: body.challenges[0].url.replace(c.base, c.otherBase) }] })) }, 'chall'],
    ['the finalize URL', { order: altered((body, c) => ({ ...body, finalize: body.finalize.replace(c.base, c.otherBase) })) }, 'order/\\d+/finalize'],
    ['the certificate URL', { finalize: altered((body, c) => ({ ...body, certificate: `${c.otherBase}/cert/0` })) }, 'cert'],
    ['the order URL (Location)', { newOrder: (c) => ({ ...c.honest, headers: { location: c.honest.headers!.location!.replace(c.base, c.otherBase) } }) }, 'order'],
  ])('%s on another host are refused before anything is sent there', async (_what, script, path) => {
    const result = await expectRefused(script, new RegExp(`the CA sent a URL on another host: ${ca.otherBase.replace(/\./g, '\\.')}/${path}`));
    expect(result.stderr).toMatch(/hint: .*--server/);
    expect(ca.requests.filter((request) => request.includes(ca.otherBase))).toEqual([]);
  });

  it('an account URL (Location) on another host is refused, and no account is stored', async () => {
    const home = tempDir('hostile');
    ca.script = { newAccount: (c) => ({ ...c.honest, headers: { location: `${c.otherBase}/account/1` } }) };
    const result = await runCli(['account', 'register', '--server', ca.directoryUrl, '--email', 'elsewhere@example.com', '--agree-tos', '-v'], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the CA sent a URL on another host: http:\/\/127\.0\.0\.1:\d+\/account\/1/);
    expect(result.stderr).not.toMatch(STACK);
    expect(Object.keys(await storeRevisions(join(home, 'acmectl.db')))).toEqual([]);
  });

  it('follows URLs on an origin the directory names (newOrder elsewhere, and the order there)', async () => {
    const { home } = homeWithCertificate();
    ca.script = { directory: altered((body, c) => ({ ...body, newOrder: body.newOrder.replace(c.base, c.otherBase) })), newOrder: onOtherOrigin, order: onOtherOrigin, authorization: onOtherOrigin, finalize: onOtherOrigin };
    const result = await issue(home, ['--force']);
    expect(result.code, result.stderr).toBe(0);
    expect(ca.requests.filter((request) => request.includes(ca.otherBase)).map((request) => request.replace(/\d+/g, 'N'))).toContain(`POST ${ca.otherBase.replace(/\d+/g, 'N')}/cert/N`);
  });
});

describe('5. a malformed ACME object is refused with what is wrong, without a stack', () => {
  it.each<[string, Script, RegExp]>([
    ['an order that is not JSON', { newOrder: (c) => ({ ...c.honest, raw: '{"status": "pending", "authorizations": [' }) }, /the CA sent an invalid order: it is not a JSON object/],
    ['an order without authorizations', { newOrder: altered((body) => ({ ...body, authorizations: undefined })) }, /the CA sent an invalid order: authorizations is not a list of URLs/],
    ['an order whose authorizations are not URLs', { newOrder: altered((body) => ({ ...body, authorizations: [42] })) }, /the CA sent an invalid order: authorizations is not a list of URLs/],
    ['an order without finalize', { order: altered((body) => ({ ...body, finalize: null })) }, /the CA sent an invalid order: finalize is not a URL/],
    ['an order with an unknown status', { order: altered((body) => ({ ...body, status: 'done' })) }, /the CA sent an invalid order: status "done" is not an ACME status/],
    ['an order with other identifiers', { newOrder: altered((body) => ({ ...body, identifiers: [{ type: 'dns', value: 'evil.example.net' }] })) }, /the CA sent an invalid order: its identifiers are not the ones ordered/],
    ['an authorization that is a list', { authorization: () => ({ status: 200, body: [] }) }, /the CA sent an invalid authorization: it is not a JSON object/],
    ['an authorization without challenges', { authorization: altered((body) => ({ ...body, challenges: 'http-01' })) }, /the CA sent an invalid authorization: challenges is not a list/],
    ['an authorization for a name not ordered', { authorization: altered((body) => ({ ...body, identifier: { type: 'dns', value: 'evil.example.net' } })) }, /the CA sent an invalid authorization: its identifier evil\.example\.net was not ordered/],
    ['a challenge without a URL', { authorization: altered((body) => ({ ...body, challenges: [{ ...body.challenges[0], url: 7 }] })) }, /the CA sent an invalid challenge: url is not a URL/],
    ['a problem whose subproblems are not a list', { newOrder: () => ({ status: 400, body: { type: 'urn:ietf:params:acme:error:malformed', detail: 'bad', subproblems: 'oops' } }) }, /the CA sent an invalid problem document: subproblems is not a list/],
    ['a problem whose detail is not text', { newOrder: () => ({ status: 400, body: { type: 'urn:ietf:params:acme:error:malformed', detail: { nested: true } } }) }, /the CA sent an invalid problem document: detail is not text/],
    ['a finalize answer that is not JSON', { finalize: (c) => ({ ...c.honest, raw: 'ok' }) }, /the CA sent an invalid order: it is not a JSON object/],
    ['a directory whose newOrder is not a URL', { directory: altered((body) => ({ ...body, newOrder: 'not a url' })) }, /the CA sent an invalid directory: newOrder is not a URL/],
  ])('%s', async (_what, script, message) => {
    await expectRefused(script, message);
  });
});

describe('a challenge token that climbs out of the webroot', () => {
  it.each(['../../x', '../../../../../x', '..', '%2e%2e%2fx', '..\\..\\x', 'a/../../x'])('%j is refused and no file is written outside .well-known/acme-challenge', async (token) => {
    const { home, before } = homeWithCertificate();
    const webroot = join(home, 'www', 'site');
    mkdirSync(webroot, { recursive: true });
    const snapshot = await before();
    // Every file outside the store (the store may note the failed attempt): the webroot's parents included.
    const filesBefore = filesOutsideStore(home);
    const earlier = ca.requests.length;
    ca.script = { authorization: altered((body) => ({ ...body, challenges: [{ ...body.challenges[0], token }] })) };
    const result = await issue(home, ['--force', '-v', '--webroot', webroot, '--no-preflight']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/the CA sent a malformed http-01 token for hostile\.example\.com; refusing to use it/);
    expect(result.stderr).not.toMatch(STACK);
    expect(filesOutsideStore(home)).toEqual(filesBefore);
    expect(await before()).toEqual(snapshot);
    expect(ca.requests.slice(earlier).some((request) => /^POST \/chall\//.test(request)), 'no challenge was answered').toBe(false);
  });
});

function filesOutsideStore(home: string): Record<string, string> {
  return Object.fromEntries(Object.entries(treeSnapshot(home)).filter(([path]) => !/^acmectl\.db/.test(path)));
}
