import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leafWith, root } from '../../../test/support/test-pki.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import { accountKey, readAccount, writeAccount } from '../../core/accounts.js';
import type { AccountRecord } from '../../core/accounts.js';
import { certificateKey, decodeRecord, encodeRecord } from '../../core/certificate-record.js';
import { UsageError } from '../../domain/errors.js';
import { MemoryStore } from '../../store/memory.js';
import { adoptPlan } from './adopt.js';
import { planCertbotImport } from './import-plan.js';

const SERVER = 'https://acme.example:14000/dir';
const ACCOUNT_URL = 'https://acme.example:14000/my-account/1';
const ca = root('Test CA');
const NOW = new Date('2030-01-01T00:00:00Z');
const options = { caBundlePem: null, out: null, now: NOW };

/** A certbot account as certbot 2 writes it: an RSA JWK, regr.json without body, meta.json. */
function writeAccountFiles(dir: string, id = 'acc1', url = ACCOUNT_URL, body: object = {}): void {
  const folder = join(dir, 'accounts', 'acme.example:14000', 'dir', id);
  mkdirSync(folder, { recursive: true });
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  writeFileSync(join(folder, 'private_key.json'), JSON.stringify(jwk));
  writeFileSync(join(folder, 'regr.json'), JSON.stringify({ body, uri: url }));
  writeFileSync(join(folder, 'meta.json'), JSON.stringify({ creation_dt: '2026-11-29T13:09:21Z', creation_host: 'web1' }));
}

/** A lineage with `count` versions (live links to `live`, default the newest), and its renewal configuration. */
function writeLineage(dir: string, name: string, options: { dns?: string[]; count?: number; live?: number; params?: string; brokenKey?: number } = {}): string[] {
  const archive = join(dir, 'archive', name);
  const live = join(dir, 'live', name);
  mkdirSync(archive, { recursive: true });
  mkdirSync(live, { recursive: true });
  const serials: string[] = [];
  const count = options.count ?? 1;
  // One key for all versions (as with certbot's reuse_key): RSA keys are slow to make.
  let key: { keyPem: string; publicKeyPem: string } | undefined;
  for (let n = 1; n <= count; n++) {
    const made = leafWith({ dns: options.dns ?? [name], issuer: ca, notBefore: new Date(Date.UTC(2029, 0, n)), ...(key ? { publicKeyPem: key.publicKeyPem } : {}) });
    key ??= { keyPem: made.keyPem!, publicKeyPem: createPublicKey(made.keyPem!).export({ type: 'spki', format: 'pem' }).toString() };
    const issued = { pem: made.pem, keyPem: key.keyPem };
    writeFileSync(join(archive, `cert${n}.pem`), issued.pem);
    writeFileSync(join(archive, `chain${n}.pem`), ca.pem);
    writeFileSync(join(archive, `fullchain${n}.pem`), issued.pem + ca.pem);
    // PKCS#1, as older certbots wrote RSA keys.
    writeFileSync(join(archive, `privkey${n}.pem`), n === options.brokenKey ? leafWith({ dns: [name], issuer: ca }).keyPem! : issued.keyPem!);
    serials.push(new X509Certificate(issued.pem).serialNumber.toUpperCase());
  }
  for (const kind of ['cert', 'chain', 'fullchain', 'privkey']) symlinkSync(`../../archive/${name}/${kind}${options.live ?? count}.pem`, join(live, `${kind}.pem`));
  mkdirSync(join(dir, 'renewal'), { recursive: true });
  writeFileSync(
    join(dir, 'renewal', `${name}.conf`),
    `version = 2.1.0\narchive_dir = /etc/letsencrypt/archive/${name}\n\n[renewalparams]\naccount = acc1\nserver = ${SERVER}\n${options.params ?? 'authenticator = standalone\nkey_type = rsa'}\n`,
  );
  return serials;
}

const certbotDir = () => {
  const dir = tempDir('certbot-plan');
  writeAccountFiles(dir);
  return dir;
};

describe('planCertbotImport', () => {
  it('refuses a directory without renewal/ (UsageError: exit 2)', async () => {
    await expect(planCertbotImport(tempDir('not-certbot'), null, options)).rejects.toThrow(UsageError);
  });

  it('takes a lineage with its versions (newest first), its names, settings and account; keys become PKCS#8', async () => {
    const dir = certbotDir();
    const serials = writeLineage(dir, 'a.example', { dns: ['www.a.example', 'a.example'], count: 3, params: 'authenticator = standalone\nkey_type = rsa\npre_hook = stop' });
    const plan = await planCertbotImport(dir, null, options);
    expect(plan.lineages).toEqual([
      expect.objectContaining({ name: 'a.example', action: 'import', reason: null, domains: ['a.example', 'www.a.example'], versions: [3, 2, 1], accountUrl: ACCOUNT_URL, notes: [] }),
    ]);
    const record = plan.writes.records.get('a.example')!;
    expect([record.current.serial, ...record.history.map((v) => v.serial)]).toEqual([...serials].reverse());
    expect(record.current.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(record.current.certPem).toBe(readFileSync(join(dir, 'archive', 'a.example', 'cert3.pem'), 'utf8'));
    expect(record.current.chainPem).toBe(ca.pem);
    expect(record.settings).toMatchObject({ server: SERVER, challenge: 'standalone', keyType: 'rsa2048', email: null, out: null, formats: ['pem'], hooks: { pre: 'stop' } });
    expect(record.createdAt).toBe('2029-01-01T00:00:00.000Z');
    expect(plan.accounts).toEqual([{ certbotId: 'acc1', directoryUrl: SERVER, url: ACCOUNT_URL, email: null, action: 'import' }]);
    const account = plan.writes.accounts.get(plan.accounts[0]!)!;
    expect(account).toMatchObject({ directoryUrl: SERVER, url: ACCOUNT_URL, email: null, createdAt: '2026-11-29T13:09:21.000Z' });
    const jwk = JSON.parse(readFileSync(join(dir, 'accounts', 'acme.example:14000', 'dir', 'acc1', 'private_key.json'), 'utf8'));
    expect(createPublicKey(account.keyPem).export({ format: 'jwk' }).n).toBe(jwk.n);
  });

  it('takes the version live/ links to as current, leaving newer ones out with a note, and older versions that lack a file', async () => {
    const dir = certbotDir();
    writeLineage(dir, 'a.example', { count: 3, live: 2 });
    writeFileSync(join(dir, 'archive', 'a.example', 'cert4.pem'), 'half-written');
    const [lineage] = (await planCertbotImport(dir, null, options)).lineages;
    expect(lineage).toMatchObject({ action: 'import', versions: [2, 1] });
    expect(lineage!.notes).toEqual(['archive versions 4 lack a file and are left out', 'live/a.example uses version 2: the newer archive versions (up to 3) are left out']);
  });

  it('leaves alone, with the reason: a wildcard, a key that is not the certificate\'s, a missing account, an unmappable authenticator', async () => {
    const dir = certbotDir();
    writeLineage(dir, 'wild.example', { dns: ['*.wild.example'] });
    writeLineage(dir, 'key.example', { brokenKey: 1 });
    writeLineage(dir, 'orphan.example', { params: 'authenticator = standalone\naccount = gone' });
    writeLineage(dir, 'dns.example', { params: 'authenticator = dns-route53' });
    const plan = await planCertbotImport(dir, null, options);
    expect(plan.lineages.map((l) => [l.name, l.action, l.reason])).toEqual([
      ['dns.example', 'skip', 'authenticator dns-route53 answers DNS-01 challenges; acmectl answers HTTP-01 only (standalone or webroot)'],
      ['key.example', 'skip', 'version 1: privkey1.pem is not the key of cert1.pem'],
      ['orphan.example', 'skip', `certbot's account gone for ${SERVER} is not under ${join(dir, 'accounts')}`],
      ['wild.example', 'skip', '"*.wild.example" is a wildcard name, which HTTP-01 cannot validate'],
    ]);
    expect(plan.writes.records.size).toBe(0);
    expect(plan.accounts).toEqual([]);
  });

  it('skips a name the store holds, saying whether it is this certificate', async () => {
    const dir = certbotDir();
    writeLineage(dir, 'a.example');
    writeLineage(dir, 'b.example');
    const store = new MemoryStore();
    const first = await planCertbotImport(dir, null, options);
    await store.put(certificateKey('a.example'), encodeRecord(first.writes.records.get('a.example')!));
    await store.put(certificateKey('b.example'), encodeRecord({ ...first.writes.records.get('b.example')!, current: first.writes.records.get('a.example')!.current }));
    const plan = await planCertbotImport(dir, store, options);
    expect(plan.lineages.map((l) => l.reason)).toEqual([
      'already imported: the store holds this certificate under this name',
      expect.stringMatching(/^the store already holds a certificate named b\.example \(serial [0-9A-F]+\); acmectl delete b\.example first to import certbot's instead$/),
    ]);
  });

  it('uses the account when the store holds it, and refuses to add one that renewals could not tell from a stored one', async () => {
    const dir = certbotDir();
    writeLineage(dir, 'a.example');
    const stored = (url: string, email: string | null): AccountRecord => ({ schema: 1, directoryUrl: SERVER, email, url, keyPem: 'k', eabKid: null, createdAt: NOW.toISOString() });

    const same = new MemoryStore();
    await writeAccount(same, accountKey(SERVER, 'ops@example.com'), stored(ACCOUNT_URL, 'ops@example.com'), { ifAbsent: true });
    const present = await planCertbotImport(dir, same, options);
    expect(present.accounts).toEqual([expect.objectContaining({ url: ACCOUNT_URL, action: 'present', email: 'ops@example.com' })]);
    expect(present.writes.accounts.size).toBe(0);
    // Renewals find it by the email it is stored under.
    expect(present.writes.records.get('a.example')!.settings.email).toBe('ops@example.com');

    const other = new MemoryStore();
    await writeAccount(other, accountKey(SERVER, 'ops@example.com'), stored('https://acme.example:14000/my-account/2', 'ops@example.com'), { ifAbsent: true });
    const [lineage] = (await planCertbotImport(dir, other, options)).lineages;
    expect(lineage!.reason).toBe(
      `its certbot account ${ACCOUNT_URL} would clash with the account https://acme.example:14000/my-account/2 the store holds for this CA, and without an email renewals could not tell them apart; import into a store without an account for ${SERVER}`,
    );
  });

  it('adds an account with an email from an older regr.json beside another email\'s account', async () => {
    const dir = tempDir('certbot-plan');
    writeAccountFiles(dir, 'acc1', ACCOUNT_URL, { contact: ['mailto:web@example.com'] });
    writeLineage(dir, 'a.example');
    const store = new MemoryStore();
    await writeAccount(store, accountKey(SERVER, 'ops@example.com'), { schema: 1, directoryUrl: SERVER, email: 'ops@example.com', url: 'https://acme.example:14000/my-account/2', keyPem: 'k', eabKid: null, createdAt: NOW.toISOString() }, { ifAbsent: true });
    const plan = await planCertbotImport(dir, store, options);
    expect(plan.accounts).toEqual([expect.objectContaining({ action: 'import', email: 'web@example.com' })]);
    expect(plan.writes.records.get('a.example')!.settings.email).toBe('web@example.com');
  });

  it("lists certbot's executable renewal hooks", async () => {
    const dir = certbotDir();
    mkdirSync(join(dir, 'renewal'));
    mkdirSync(join(dir, 'renewal-hooks', 'deploy'), { recursive: true });
    writeFileSync(join(dir, 'renewal-hooks', 'deploy', 'reload-nginx'), '#!/bin/sh\n');
    chmodSync(join(dir, 'renewal-hooks', 'deploy', 'reload-nginx'), 0o755);
    writeFileSync(join(dir, 'renewal-hooks', 'deploy', 'README'), 'not executable\n');
    expect((await planCertbotImport(dir, null, options)).hookScripts).toEqual([{ kind: 'deploy', path: join(dir, 'renewal-hooks', 'deploy', 'reload-nginx') }]);
  });
});

describe('adoptPlan', () => {
  it('stores the accounts and certificates and writes the current version\'s files; never overwrites what appeared meanwhile', async () => {
    const dir = certbotDir();
    writeLineage(dir, 'a.example', { count: 2 });
    writeLineage(dir, 'b.example');
    const store = new MemoryStore();
    const plan = await planCertbotImport(dir, store, options);
    // Another process stores b.example after the plan was made.
    await store.put(certificateKey('b.example'), encodeRecord({ ...plan.writes.records.get('b.example')!, name: 'theirs' }));
    const out = tempDir('certbot-out');
    const outcomes = await adoptPlan(plan, store, out);
    expect(outcomes).toEqual([
      { name: 'a.example', outcome: 'imported', files: expect.objectContaining({ dir: join(out, 'a.example') }), exportError: null },
      { name: 'b.example', outcome: 'failed', error: 'another process stored a certificate named b.example meanwhile; it was left as it is' },
    ]);
    const stored = decodeRecord((await store.get(certificateKey('a.example')))!.value, 'a');
    expect(stored.history.map((v) => v.version)).toEqual([1]);
    expect(decodeRecord((await store.get(certificateKey('b.example')))!.value, 'b').name).toBe('theirs');
    expect((await readAccount(store, accountKey(SERVER, null)))!.url).toBe(ACCOUNT_URL);
    expect(readFileSync(join(out, 'a.example', 'cert.pem'), 'utf8')).toBe(readFileSync(join(dir, 'archive', 'a.example', 'cert2.pem'), 'utf8'));
    expect(readlinkSync(join(out, 'a.example'))).toBe(join('.versions', 'a.example', '2'));
    expect(readFileSync(join(out, '.versions', 'a.example', '.deployed'), 'utf8')).toBe('2\n');
  });
});
