import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KEY_TYPES } from '../domain/choices.js';
import { generatePrivateKey, jwkThumbprint, keyAuthorization } from './keys.js';

describe('generatePrivateKey', () => {
  it.each(KEY_TYPES)('%s', async (type) => {
    const pem = await generatePrivateKey(type);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const key = createPrivateKey(pem);
    if (type.startsWith('ec')) {
      expect(key.asymmetricKeyType).toBe('ec');
      expect(key.asymmetricKeyDetails?.namedCurve).toBe(type === 'ec256' ? 'prime256v1' : 'secp384r1');
    } else {
      expect(key.asymmetricKeyType).toBe('rsa');
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(Number(type.slice(3)));
    }
  });
});

describe('jwkThumbprint', () => {
  it('matches the RFC 7638 §3.1 example', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    const pem = createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    expect(jwkThumbprint(pem)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
  it('is stable for a key and differs between keys', async () => {
    const a = await generatePrivateKey('ec256');
    const b = await generatePrivateKey('ec256');
    expect(jwkThumbprint(a)).toBe(jwkThumbprint(a));
    expect(jwkThumbprint(a)).not.toBe(jwkThumbprint(b));
    expect(keyAuthorization('tok_en-1', a)).toBe(`tok_en-1.${jwkThumbprint(a)}`);
  });
});
