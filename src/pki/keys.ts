import { createHash, createPublicKey, generateKeyPair } from 'node:crypto';
import type { KeyType } from '../domain/choices.js';

/** A new private key of the given type as PKCS#8 PEM, made with node:crypto (off the main thread). */
export function generatePrivateKey(type: KeyType): Promise<string> {
  const encoding = { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } } as const;
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, _publicKey: string, privateKey: string): void => (error ? reject(error) : resolve(privateKey));
    if (type === 'ec256' || type === 'ec384') {
      generateKeyPair('ec', { namedCurve: type === 'ec256' ? 'P-256' : 'P-384', ...encoding }, done);
    } else {
      generateKeyPair('rsa', { modulusLength: Number(type.slice(3)), ...encoding }, done);
    }
  });
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of the account key: the second half of a key authorization. */
export function jwkThumbprint(privateKeyPem: string): string {
  const jwk = createPublicKey(privateKeyPem).export({ format: 'jwk' });
  // Only the required members, in lexicographic order (RFC 7638 §3.2).
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** The HTTP-01 key authorization: `token.thumbprint` (RFC 8555 §8.1). */
export function keyAuthorization(token: string, accountKeyPem: string): string {
  return `${token}.${jwkThumbprint(accountKeyPem)}`;
}
