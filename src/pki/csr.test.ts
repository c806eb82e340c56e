import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { KEY_TYPES } from '../domain/choices.js';
import { parseIdentifiers } from '../domain/identifiers.js';
import { createCsrDer, ipOctets } from './csr.js';
import { generatePrivateKey } from './keys.js';

/**
 * What `openssl req -verify -text` says of a DER request; throws unless openssl says the signature verifies
 * (OpenSSL 3.0 reports a bad one on stderr and still exits 0).
 */
function opensslReads(der: Uint8Array): string {
  const run = spawnSync('openssl', ['req', '-inform', 'DER', '-verify', '-noout', '-text'], { input: der, encoding: 'utf8' });
  if (run.status !== 0 || !/verify OK/.test(`${run.stdout}${run.stderr}`)) throw new Error(`openssl does not accept the request: ${run.stderr}`);
  return run.stdout;
}

const LONG = `${'a'.repeat(60)}.example.com`;

describe('createCsrDer', () => {
  it.each(KEY_TYPES)('a %s key: openssl verifies the signature and reads the names', async (type) => {
    const key = await generatePrivateKey(type);
    const text = opensslReads(await createCsrDer(parseIdentifiers(['example.com', 'www.example.com', '192.0.2.7', '2001:db8::1']), key));
    expect(text).toMatch(/Subject: CN ?= ?example\.com/);
    expect(text).toMatch(/DNS:example\.com, DNS:www\.example\.com, IP Address:192\.0\.2\.7, IP Address:2001:DB8:0:0:0:0:0:1/);
    expect(text).toMatch(type.startsWith('ec') ? (type === 'ec384' ? /ecdsa-with-SHA384/ : /ecdsa-with-SHA256/) : /sha256WithRSAEncryption/);
    expect(text).toMatch(type.startsWith('ec') ? /Public Key Algorithm: id-ecPublicKey/ : /Public Key Algorithm: rsaEncryption/);
  });

  it('is refused by openssl once a byte of its signature changes (so the checks above do check it)', async () => {
    const der = Buffer.from(await createCsrDer(parseIdentifiers(['example.com']), await generatePrivateKey('ec256')));
    der.writeUInt8(der.readUInt8(der.length - 1) ^ 0x01, der.length - 1);
    expect(() => opensslReads(der)).toThrow(/does not accept/);
  });

  it('leaves the subject empty when the first name is longer than 64 characters (the name goes into the SAN only)', async () => {
    const key = await generatePrivateKey('ec256');
    const text = opensslReads(await createCsrDer(parseIdentifiers([LONG, 'short.example.com']), key));
    expect(text).not.toMatch(/CN ?=/);
    expect(text).toContain(`DNS:${LONG}, DNS:short.example.com`);
  });

  it('leaves the subject empty when the first identifier is an IP address', async () => {
    const key = await generatePrivateKey('ec256');
    const text = opensslReads(await createCsrDer(parseIdentifiers(['::ffff:192.0.2.1', '192.0.2.9']), key));
    expect(text).not.toMatch(/CN ?=/);
    expect(text).toMatch(/IP Address:0:0:0:0:0:FFFF:C000:201, IP Address:192\.0\.2\.9/);
  });
});

describe('ipOctets', () => {
  it.each([
    ['192.0.2.7', 'c0000207'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::', '20010db8000000000000000000000000'],
    ['2001:db8:1:2:3:4:5:6', '20010db8000100020003000400050006'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
  ])('%s', (address, hex) => {
    expect(ipOctets(address).toString('hex')).toBe(hex);
  });
  it('refuses what is not an address', () => {
    expect(() => ipOctets('1:2:3')).toThrow(/not an IP address/);
  });
});
