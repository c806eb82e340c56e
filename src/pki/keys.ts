import { createHash, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
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

/** The public JWK of an EC or RSA key: only the members RFC 7638 requires, in its lexicographic order. */
export type PublicJwk = { crv: string; kty: 'EC'; x: string; y: string } | { e: string; kty: 'RSA'; n: string };

/**
 * The public key of `key` (a PEM, or a key object) as a JWK with only its required members, in lexicographic
 * order (RFC 7638 §3.2): what an ACME request's `jwk` header carries and what the thumbprint hashes, so that the
 * CA's thumbprint of the key it was sent and ours agree.
 */
export function publicJwk(key: string | KeyObject): PublicJwk {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  if (jwk.kty === 'EC' && jwk.crv && jwk.x && jwk.y) return { crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y };
  if (jwk.kty === 'RSA' && jwk.e && jwk.n) return { e: jwk.e, kty: 'RSA', n: jwk.n };
  throw new Error(`a ${String(jwk.kty)} key has no JWK acmectl can use: only EC and RSA keys`);
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of the account key: the second half of a key authorization. */
export function jwkThumbprint(key: string | KeyObject): string {
  return createHash('sha256').update(JSON.stringify(publicJwk(key))).digest('base64url');
}

/** The HTTP-01 key authorization: `token.thumbprint` (RFC 8555 §8.1). */
export function keyAuthorization(token: string, accountKeyPem: string): string {
  return `${token}.${jwkThumbprint(accountKeyPem)}`;
}
