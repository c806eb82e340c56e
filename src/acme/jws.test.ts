import { createHash, createHmac, createPublicKey, generateKeyPairSync, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jwkThumbprint } from '../pki/keys.js';
import { externalAccountBinding, JwsSigner, type FlattenedJws } from './jws.js';

const pem = (pair: { privateKey: KeyObject }): string => pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const KEYS = {
  ES256: pem(generateKeyPairSync('ec', { namedCurve: 'P-256' })),
  ES384: pem(generateKeyPairSync('ec', { namedCurve: 'P-384' })),
  ES512: pem(generateKeyPairSync('ec', { namedCurve: 'P-521' })),
  RS256: pem(generateKeyPairSync('rsa', { modulusLength: 2048 })),
};
const HASHES = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', RS256: 'sha256' } as const;
/** Length of an IEEE P1363 signature (r || s) per curve. */
const P1363_LENGTH = { ES256: 64, ES384: 96, ES512: 132 } as const;

const decoded = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** Verifies the JWS with node:crypto against the JWK in its header (or the given one), as a CA would. */
function verifies(jws: FlattenedJws, jwk: JsonWebKey, alg: keyof typeof HASHES): boolean {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  return verify(HASHES[alg], Buffer.from(`${jws.protected}.${jws.payload}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(jws.signature, 'base64url'));
}

describe('JwsSigner', () => {
  it.each(Object.keys(KEYS) as (keyof typeof KEYS)[])('%s: a request with a jwk header verifies against that JWK', (alg) => {
    const signer = new JwsSigner(KEYS[alg]);
    expect(signer.alg).toBe(alg);
    const jws = signer.sign({ url: 'https://ca.test/new-account', nonce: 'n0nce_-1' }, { termsOfServiceAgreed: true });
    const header = decoded(jws.protected) as Record<string, unknown>;
    expect(header).toEqual({ alg, nonce: 'n0nce_-1', url: 'https://ca.test/new-account', jwk: signer.jwk });
    expect(decoded(jws.payload)).toEqual({ termsOfServiceAgreed: true });
    expect(verifies(jws, header.jwk as JsonWebKey, alg)).toBe(true);
    if (alg !== 'RS256') expect(Buffer.from(jws.signature, 'base64url')).toHaveLength(P1363_LENGTH[alg]);
    // Another payload under the same signature does not verify.
    expect(verifies({ ...jws, payload: Buffer.from('{}').toString('base64url') }, header.jwk as JsonWebKey, alg)).toBe(false);
  });

  it('signs with the account URL as kid (no jwk), and a POST-as-GET has the empty payload', () => {
    const signer = new JwsSigner(KEYS.ES256);
    const jws = signer.sign({ url: 'https://ca.test/order/1', nonce: 'abc', kid: 'https://ca.test/acct/7' }, null);
    expect(decoded(jws.protected)).toEqual({ alg: 'ES256', nonce: 'abc', url: 'https://ca.test/order/1', kid: 'https://ca.test/acct/7' });
    expect(jws.payload).toBe('');
    expect(verifies(jws, signer.jwk, 'ES256')).toBe(true);
  });

  it('signs a key change\'s inner JWS with the new key: jwk, url, no nonce', () => {
    const newKey = new JwsSigner(KEYS.ES384);
    const oldKey = new JwsSigner(KEYS.ES256);
    const inner = newKey.sign({ url: 'https://ca.test/key-change' }, { account: 'https://ca.test/acct/7', oldKey: oldKey.jwk });
    expect(decoded(inner.protected)).toEqual({ alg: 'ES384', url: 'https://ca.test/key-change', jwk: newKey.jwk });
    expect(decoded(inner.payload)).toEqual({ account: 'https://ca.test/acct/7', oldKey: oldKey.jwk });
    expect(verifies(inner, newKey.jwk, 'ES384')).toBe(true);
  });

  it('carries only the JWK members RFC 7638 names, in its order, so that the CA\'s thumbprint is ours', () => {
    for (const key of Object.values(KEYS)) {
      const { jwk } = new JwsSigner(key);
      expect(Object.keys(jwk)).toEqual(jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : ['e', 'kty', 'n']);
      expect(createHash('sha256').update(JSON.stringify(jwk)).digest('base64url')).toBe(jwkThumbprint(key));
    }
  });

  it('refuses a key that has no JWS algorithm here', () => {
    expect(() => new JwsSigner(pem(generateKeyPairSync('ed25519')))).toThrow(/only EC and RSA keys/);
    expect(() => new JwsSigner(pem(generateKeyPairSync('ec', { namedCurve: 'secp256k1' })))).toThrow(/P-256, P-384 or P-521 only/);
  });
});

describe('externalAccountBinding', () => {
  it('is an HS256 JWS of the account JWK under the EAB kid, for the newAccount URL (RFC 8555 §7.3.4)', () => {
    const hmacKey = Buffer.from('a secret HMAC key of the CA, 32 bytes').toString('base64url');
    const account = new JwsSigner(KEYS.ES256);
    const eab = externalAccountBinding({ kid: 'kid-1', hmacKey }, 'https://ca.test/new-account', account.jwk);
    expect(decoded(eab.protected)).toEqual({ alg: 'HS256', kid: 'kid-1', url: 'https://ca.test/new-account' });
    expect(decoded(eab.payload)).toEqual(account.jwk);
    const expected = createHmac('sha256', Buffer.from(hmacKey, 'base64url')).update(`${eab.protected}.${eab.payload}`).digest('base64url');
    expect(eab.signature).toBe(expected);
  });
});
