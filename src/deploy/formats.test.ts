import { execFile } from 'node:child_process';
import { createSecureContext } from 'node:tls';
import { readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { AcmectlError, OperationError, UsageError } from '../domain/errors.js';
import { combinedPem, EXPORT_FORMATS, parseExportFormats, readPkcs12Password } from './formats.js';
import { pkcs12 } from './pkcs12.js';
import { exportPem } from './pem-export.js';
import type { PemFiles } from '../pki/pem-files.js';

/** Runs a command without a shell; never throws for a non-zero exit. */
function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

async function openssl(...args: string[]): Promise<string> {
  const result = await run('openssl', args);
  if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** The base64 bodies of the PEM certificates in a text, in order (ignores "Bag Attributes" and the like). */
function certificateBodies(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((match) =>
    match[1]!.replace(/\s+/g, ''),
  );
}

const KEY_TYPES = {
  ec256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  ec384: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  rsa2048: ['-newkey', 'rsa:2048'],
} as const;
type KeyType = keyof typeof KEY_TYPES;

const PASSWORD = 'correct horse-battery';
const FRIENDLY_NAME = 'example.com';

let dir: string;
/** PEM texts of each key type's leaf, issued by a throwaway intermediate under a throwaway root. */
const lineages = {} as Record<KeyType, PemFiles>;
let intermediatePem: string;

beforeAll(async () => {
  dir = tempDir('formats');
  const path = (file: string) => join(dir, file);
  await writeFile(path('ca.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n');
  await writeFile(path('leaf.ext'), 'subjectAltName=DNS:example.com\nextendedKeyUsage=serverAuth\n');
  await openssl('req', '-x509', ...KEY_TYPES.ec256, '-nodes', '-keyout', path('root.key'), '-out', path('root.pem'),
    '-subj', '/CN=acmectl test root', '-days', '2');
  await openssl('req', '-new', ...KEY_TYPES.ec384, '-nodes', '-keyout', path('int.key'), '-out', path('int.csr'),
    '-subj', '/CN=acmectl test intermediate');
  await openssl('x509', '-req', '-in', path('int.csr'), '-CA', path('root.pem'), '-CAkey', path('root.key'),
    '-set_serial', '1', '-days', '2', '-extfile', path('ca.ext'), '-out', path('int.pem'));
  intermediatePem = await readFile(path('int.pem'), 'utf8');
  await Promise.all(
    (Object.keys(KEY_TYPES) as KeyType[]).map(async (type, index) => {
      await openssl('req', '-new', ...KEY_TYPES[type], '-nodes', '-keyout', path(`${type}.key`), '-out',
        path(`${type}.csr`), '-subj', '/CN=example.com');
      await openssl('x509', '-req', '-in', path(`${type}.csr`), '-CA', path('int.pem'), '-CAkey', path('int.key'),
        '-set_serial', String(100 + index), '-days', '2', '-extfile', path('leaf.ext'), '-out', path(`${type}.pem`));
      const certPem = await readFile(path(`${type}.pem`), 'utf8');
      lineages[type] = {
        certPem,
        chainPem: intermediatePem,
        fullchainPem: certPem + intermediatePem,
        keyPem: await readFile(path(`${type}.key`), 'utf8'),
      };
    }),
  );
});

describe.each(Object.keys(KEY_TYPES) as KeyType[])('pkcs12 with a %s key', (type) => {
  let p12Path: string;
  let leafBody: string;
  let intermediateBody: string;

  beforeAll(async () => {
    p12Path = join(dir, `${type}.p12`);
    await writeFile(p12Path, pkcs12(lineages[type], { password: PASSWORD, friendlyName: FRIENDLY_NAME }));
    leafBody = certificateBodies(lineages[type].certPem)[0]!;
    intermediateBody = certificateBodies(intermediatePem)[0]!;
  });

  it('openssl pkcs12 (no -legacy) shows the leaf, then the intermediate, and the friendly name', async () => {
    // No -legacy: OpenSSL 3 then refuses files encrypted with RC2 or RC4, as older PKCS#12 writers made them.
    const output = await openssl('pkcs12', '-in', p12Path, '-passin', `pass:${PASSWORD}`, '-nokeys');
    expect(certificateBodies(output)).toEqual([leafBody, intermediateBody]);
    expect(output).toContain(`friendlyName: ${FRIENDLY_NAME}`);
    expect(output).toMatch(/localKeyID: [0-9A-F ]+/);
  });

  it('openssl pkcs12 -nocerts -nodes gives the key of the leaf', async () => {
    const keyOut = await openssl('pkcs12', '-in', p12Path, '-passin', `pass:${PASSWORD}`, '-nocerts', '-nodes');
    const keyPath = join(dir, `${type}-from-p12.key`);
    await writeFile(keyPath, keyOut);
    const fromKey = await openssl('pkey', '-in', keyPath, '-pubout');
    const fromCert = await openssl('x509', '-in', join(dir, `${type}.pem`), '-pubkey', '-noout');
    expect(fromKey).toContain('BEGIN PUBLIC KEY');
    expect(fromKey.trim()).toBe(fromCert.trim());
    // Same localKeyID on the key and on the leaf certificate: that is how readers pair them.
    const ids = (text: string) => [...text.matchAll(/localKeyID: ([0-9A-F ]+)/g)].map((match) => match[1]!.trim());
    const certIds = ids(await openssl('pkcs12', '-in', p12Path, '-passin', `pass:${PASSWORD}`, '-nokeys'));
    expect(ids(keyOut)).toEqual(certIds);
  });

  it('uses a SHA-256 MAC and PBES2/PBKDF2/AES-256-CBC for the key, certificates unencrypted', async () => {
    const result = await run('openssl', ['pkcs12', '-in', p12Path, '-passin', `pass:${PASSWORD}`, '-info', '-noout']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/MAC: sha256, Iteration 10000/);
    expect(result.stderr).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256/);
    expect(result.stderr).not.toMatch(/Encrypted data/);
  });

  it('refuses a wrong password (openssl, and Node’s TLS)', async () => {
    const result = await run('openssl', ['pkcs12', '-in', p12Path, '-passin', 'pass:wrong password', '-nokeys']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/mac verify/i);
    const pfx = await readFile(p12Path);
    expect(() => createSecureContext({ pfx, passphrase: PASSWORD })).not.toThrow();
    expect(() => createSecureContext({ pfx, passphrase: 'wrong password' })).toThrow(/mac verify/i);
  });

  it('keytool (Java) lists one private key entry, aliased by the friendly name, chain of 2', async () => {
    const result = await run('keytool', ['-list', '-v', '-storetype', 'PKCS12', '-keystore', p12Path, '-storepass', PASSWORD]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`Alias name: ${FRIENDLY_NAME}`);
    expect(result.stdout).toContain('Entry type: PrivateKeyEntry');
    expect(result.stdout).toContain('Certificate chain length: 2');
  });

  it('is deterministic: the same inputs give the same bytes, another password or name other bytes', () => {
    const options = { password: PASSWORD, friendlyName: FRIENDLY_NAME };
    const first = Buffer.from(pkcs12(lineages[type], options));
    expect(Buffer.from(pkcs12(lineages[type], { ...options })).equals(first)).toBe(true);
    expect(Buffer.from(pkcs12(lineages[type], { ...options, password: `${PASSWORD}!` })).equals(first)).toBe(false);
    expect(Buffer.from(pkcs12(lineages[type], { ...options, friendlyName: 'other' })).equals(first)).toBe(false);
  });
});

describe('pkcs12', () => {
  it('works with a non-ASCII password (PKCS#12 KDF as UTF-16, PBKDF2 as UTF-8, as OpenSSL does)', async () => {
    const password = 'pässwörd ✓ 🔑';
    const path = join(dir, 'unicode.p12');
    await writeFile(path, pkcs12(lineages.ec256, { password, friendlyName: 'bücher.example' }));
    const keyOut = await openssl('pkcs12', '-in', path, '-passin', `pass:${password}`, '-nocerts', '-nodes');
    expect(keyOut).toContain('BEGIN PRIVATE KEY');
    const pfx = await readFile(path);
    // The friendly name is a BMPString (UTF-16BE); openssl prints it cut to 8 bits, so look at the bytes.
    const name = Buffer.from('bücher.example', 'utf16le').swap16();
    expect(pfx.includes(Buffer.concat([Buffer.from([0x1e, name.length]), name]))).toBe(true);
    expect(() => createSecureContext({ pfx, passphrase: password })).not.toThrow();
  });

  it('takes any string as the password, even an empty one (refusing it is the caller’s job)', async () => {
    const path = join(dir, 'empty-password.p12');
    await writeFile(path, pkcs12(lineages.ec256, { password: '', friendlyName: 'x' }));
    expect(await openssl('pkcs12', '-in', path, '-passin', 'pass:', '-nocerts', '-nodes')).toContain('BEGIN PRIVATE KEY');
  });

  it('accepts keys in SEC1 and PKCS#1 form, and a leaf without intermediates', async () => {
    const sec1 = await openssl('ec', '-in', join(dir, 'ec256.key'));
    const pkcs1 = await openssl('rsa', '-in', join(dir, 'rsa2048.key'), '-traditional');
    expect(sec1).toContain('BEGIN EC PRIVATE KEY');
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY');
    for (const [type, keyPem] of [['ec256', sec1], ['rsa2048', pkcs1]] as const) {
      const path = join(dir, `${type}-traditional.p12`);
      await writeFile(path, pkcs12({ ...lineages[type], keyPem }, { password: PASSWORD, friendlyName: 'x' }));
      const keyOut = await openssl('pkcs12', '-in', path, '-passin', `pass:${PASSWORD}`, '-nocerts', '-nodes');
      const keyPath = join(dir, `${type}-traditional-from-p12.key`);
      await writeFile(keyPath, keyOut);
      expect((await openssl('pkey', '-in', keyPath, '-pubout')).trim()).toBe(
        (await openssl('x509', '-in', join(dir, `${type}.pem`), '-pubkey', '-noout')).trim(),
      );
    }

    const alone = join(dir, 'alone.p12');
    await writeFile(alone, pkcs12({ ...lineages.ec384, chainPem: '' }, { password: PASSWORD, friendlyName: '' }));
    const certsOut = await openssl('pkcs12', '-in', alone, '-passin', `pass:${PASSWORD}`, '-nokeys');
    expect(certificateBodies(certsOut)).toEqual(certificateBodies(lineages.ec384.certPem));
    expect(certsOut).not.toContain('friendlyName');
  });

  it('refuses a key that is not the leaf’s, and PEM texts that do not parse, with an OperationError', () => {
    const options = { password: PASSWORD, friendlyName: 'x' };
    const mismatched = { ...lineages.ec256, keyPem: lineages.ec384.keyPem };
    expect(() => pkcs12(mismatched, options)).toThrow(OperationError);
    expect(() => pkcs12(mismatched, options)).toThrow(/does not belong/);
    expect(() => pkcs12({ ...lineages.ec256, certPem: '' }, options)).toThrow(OperationError);
    expect(() => pkcs12({ ...lineages.ec256, certPem: lineages.ec256.fullchainPem }, options)).toThrow(OperationError);
    const broken = lineages.ec256.certPem.replace(/(BEGIN CERTIFICATE-----\n)..../, '$1AAAA');
    expect(() => pkcs12({ ...lineages.ec256, certPem: broken }, options)).toThrow(OperationError);
    expect(() => pkcs12({ ...lineages.ec256, keyPem: 'not a key' }, options)).toThrow(OperationError);
  });
});

describe('combinedPem', () => {
  it.each(Object.keys(KEY_TYPES) as KeyType[])('%s: key first, then the leaf, then the chain; openssl reads it', async (type) => {
    const files = lineages[type];
    const text = combinedPem(files);
    expect(text).toBe(files.keyPem + files.fullchainPem);
    const keyAt = text.indexOf('PRIVATE KEY-----');
    const [leafBody, intermediateBody] = [certificateBodies(files.certPem)[0]!, certificateBodies(intermediatePem)[0]!];
    expect(certificateBodies(text)).toEqual([leafBody, intermediateBody]);
    expect(keyAt).toBeGreaterThanOrEqual(0);
    expect(keyAt).toBeLessThan(text.indexOf('BEGIN CERTIFICATE'));

    const path = join(dir, `${type}-combined.pem`);
    await writeFile(path, text);
    // openssl x509 takes the first certificate (the leaf); openssl pkey the key; they belong together.
    expect(await openssl('x509', '-in', path, '-noout', '-subject')).toMatch(/CN ?= ?example\.com/);
    expect((await openssl('pkey', '-in', path, '-pubout')).trim()).toBe(
      (await openssl('x509', '-in', path, '-pubkey', '-noout')).trim(),
    );
    const verify = await run('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', path, join(dir, `${type}.pem`)]);
    expect(verify.stdout + verify.stderr).toMatch(/: OK/);
  });

  it('puts a newline between parts that lack one', () => {
    const files = { certPem: 'C', chainPem: 'I', fullchainPem: 'C\nI', keyPem: 'K' };
    expect(combinedPem(files)).toBe('K\nC\nI\n');
  });
});

describe('extra files through the exporter', () => {
  it('re-exporting the same version with the same combined.pem and certificate.p12 changes nothing', async () => {
    const out = join(dir, 'live');
    const files = lineages.ec256;
    const request = () => ({
      outDir: out,
      name: 'example.com',
      version: '1',
      files,
      extraFiles: [
        { name: 'combined.pem' as const, data: combinedPem(files) },
        { name: 'certificate.p12' as const, data: pkcs12(files, { password: PASSWORD, friendlyName: 'example.com' }) },
      ],
    });
    const paths = await exportPem(request());
    expect(paths.combined).toBe(join(out, 'example.com', 'combined.pem'));
    expect(paths.pkcs12).toBe(join(out, 'example.com', 'certificate.p12'));
    expect((await stat(paths.pkcs12!)).mode & 0o777).toBe(0o600);
    expect((await stat(paths.combined!)).mode & 0o777).toBe(0o600);
    const inode = (await stat(paths.pkcs12!)).ino;
    await exportPem(request());
    expect(await readlink(join(out, 'example.com'))).toBe('.versions/example.com/1');
    expect((await stat(paths.pkcs12!)).ino).toBe(inode);
    const certsOut = await openssl('pkcs12', '-in', paths.pkcs12!, '-passin', `pass:${PASSWORD}`, '-nokeys');
    expect(certificateBodies(certsOut)).toEqual(certificateBodies(files.fullchainPem));
  });
});

describe('parseExportFormats', () => {
  it.each([
    { input: [], expected: ['pem'] },
    { input: ['pem'], expected: ['pem'] },
    { input: ['pkcs12'], expected: ['pem', 'pkcs12'] },
    { input: ['pkcs12', 'combined'], expected: ['pem', 'combined', 'pkcs12'] },
    { input: ['combined,pkcs12'], expected: ['pem', 'combined', 'pkcs12'] },
    { input: ['pkcs12, combined', 'pem'], expected: ['pem', 'combined', 'pkcs12'] },
    { input: ['combined', 'combined,combined'], expected: ['pem', 'combined'] },
    { input: [' PKCS12 ', 'Combined'], expected: ['pem', 'combined', 'pkcs12'] },
  ])('$input → $expected', ({ input, expected }) => {
    expect(parseExportFormats(input)).toEqual(expected);
  });

  it.each([['der'], ['pem,jks'], ['p12'], ['pfx'], [''], ['pem,'], ['pem,,combined']])(
    'refuses %j with a UsageError naming the value and the accepted formats',
    (value) => {
      const error = captureError(() => parseExportFormats(['pem', value]));
      expect(error).toBeInstanceOf(UsageError);
      const bad = value.split(',').map((part) => part.trim()).find((part) => !EXPORT_FORMATS.includes(part as never))!;
      expect(error.message).toContain(JSON.stringify(bad));
      for (const format of EXPORT_FORMATS) expect(error.message).toContain(format);
    },
  );

  it('points p12/pfx at pkcs12', () => {
    expect(captureError(() => parseExportFormats(['pfx'])).message).toMatch(/use "pkcs12"/);
  });
});

describe('readPkcs12Password', () => {
  const secret = 'S3cret-Pässword';

  async function passwordFile(name: string, content: string, mode = 0o600): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, content, { mode });
    return path;
  }

  it('reads the first line of --password-file, without its line ending', async () => {
    expect(readPkcs12Password({ passwordFile: await passwordFile('pw1', `${secret}\n`), env: {} })).toBe(secret);
    expect(readPkcs12Password({ passwordFile: await passwordFile('pw2', `${secret}\r\nsecond line\n`), env: {} })).toBe(secret);
    expect(readPkcs12Password({ passwordFile: await passwordFile('pw3', secret), env: {} })).toBe(secret);
    expect(readPkcs12Password({ passwordFile: await passwordFile('pw4', ` ${secret} \n`), env: {} })).toBe(` ${secret} `);
    expect(readPkcs12Password({ passwordFile: await passwordFile('pw5', `\uFEFF${secret}\n`), env: {} })).toBe(secret);
    // Group- or world-readable files are accepted (the file is the user's choice).
    expect(readPkcs12Password({ passwordFile: await passwordFile('pw6', `${secret}\n`, 0o644), env: {} })).toBe(secret);
  });

  it('uses ACMECTL_PKCS12_PASSWORD without a file; the file wins over it', async () => {
    expect(readPkcs12Password({ passwordFile: null, env: { ACMECTL_PKCS12_PASSWORD: secret } })).toBe(secret);
    const file = await passwordFile('pw-wins', 'from the file\n');
    expect(readPkcs12Password({ passwordFile: file, env: { ACMECTL_PKCS12_PASSWORD: secret } })).toBe('from the file');
  });

  it('refuses with a UsageError: no source, an empty variable, a missing or empty file; never shows the password', async () => {
    const cases: Array<{ label: string; input: Parameters<typeof readPkcs12Password>[0]; message: RegExp }> = [
      { label: 'nothing', input: { passwordFile: null, env: {} }, message: /needs a password: --password-file FILE or ACMECTL_PKCS12_PASSWORD/ },
      { label: 'empty env', input: { passwordFile: null, env: { ACMECTL_PKCS12_PASSWORD: '' } }, message: /needs a password/ },
      {
        label: 'missing file',
        input: { passwordFile: join(dir, 'no-such-file'), env: { ACMECTL_PKCS12_PASSWORD: secret } },
        message: /cannot read the PKCS#12 password file .*no-such-file: it does not exist/,
      },
      { label: 'directory', input: { passwordFile: dir, env: {} }, message: /it is a directory/ },
      {
        label: 'empty first line',
        input: { passwordFile: await passwordFile('pw-empty', `\n${secret}\n`), env: { ACMECTL_PKCS12_PASSWORD: secret } },
        message: /first line .* is empty/,
      },
      { label: 'empty file', input: { passwordFile: await passwordFile('pw-empty2', ''), env: {} }, message: /is empty/ },
    ];
    for (const { label, input, message } of cases) {
      const error = captureError(() => readPkcs12Password(input));
      expect(error, label).toBeInstanceOf(UsageError);
      expect(error.message, label).toMatch(message);
      expect(`${error.message} ${(error as AcmectlError).hint ?? ''}`, label).not.toContain(secret);
      expect(String(error.stack), label).not.toContain(secret);
    }
  });
});

function captureError(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
