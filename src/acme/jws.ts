/**
 * ACME's JSON Web Signatures (RFC 8555 §6.2, RFC 7515): every request to a CA is a flattened JWS whose protected
 * header names the algorithm, the nonce, the URL, and either the account URL (`kid`) or the public key (`jwk`).
 */
import { createHmac, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { publicJwk, type PublicJwk } from '../pki/keys.js';

/** A flattened JSON JWS (RFC 7515 §7.2.2), the body of every ACME POST. */
export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

/** What the protected header says besides `alg`: the nonce (absent only in a key change's inner JWS), the URL, and kid or jwk. */
export interface JwsHeader {
  url: string;
  nonce?: string;
  /** The account URL; without it the header carries the public key (`jwk`). */
  kid?: string;
}

/**
 * An account key and what signs with it: ES256 (P-256, the keys acmectl makes), ES384 (P-384) or ES512 (P-521)
 * for EC keys (certbot's imported accounts may hold any of them), RS256 for RSA keys (certbot's default).
 */
export class JwsSigner {
  readonly alg: 'ES256' | 'ES384' | 'ES512' | 'RS256';
  readonly jwk: PublicJwk;
  readonly #key: KeyObject;
  readonly #hash: 'sha256' | 'sha384' | 'sha512';

  constructor(privateKeyPem: string) {
    this.#key = createPrivateKey(privateKeyPem);
    this.jwk = publicJwk(this.#key);
    if (this.jwk.kty === 'RSA') {
      [this.alg, this.#hash] = ['RS256', 'sha256'];
    } else {
      const byCurve = EC_ALGORITHMS[this.jwk.crv];
      if (!byCurve) throw new Error(`an EC account key on curve ${this.jwk.crv} cannot sign ACME requests (P-256, P-384 or P-521 only)`);
      [this.alg, this.#hash] = byCurve;
    }
  }

  /**
   * The JWS of `payload` for `header`: JSON of the payload, or the empty string of a POST-as-GET (RFC 8555 §6.3)
   * when `payload` is null.
   */
  sign(header: JwsHeader, payload: unknown): FlattenedJws {
    const key = header.kid !== undefined ? { kid: header.kid } : { jwk: this.jwk };
    const fields = { alg: this.alg, ...(header.nonce !== undefined ? { nonce: header.nonce } : {}), url: header.url, ...key };
    const protectedB64 = base64url(JSON.stringify(fields));
    const payloadB64 = payload === null ? '' : base64url(JSON.stringify(payload));
    // ECDSA signatures in JWS are r || s of fixed length (RFC 7518 §3.4), not DER.
    const signature = sign(this.#hash, Buffer.from(`${protectedB64}.${payloadB64}`), { key: this.#key, dsaEncoding: 'ieee-p1363' });
    return { protected: protectedB64, payload: payloadB64, signature: signature.toString('base64url') };
  }
}

const EC_ALGORITHMS: Record<string, ['ES256' | 'ES384' | 'ES512', 'sha256' | 'sha384' | 'sha512']> = {
  'P-256': ['ES256', 'sha256'],
  'P-384': ['ES384', 'sha384'],
  'P-521': ['ES512', 'sha512'],
};

/**
 * The external account binding of a newAccount request (RFC 8555 §7.3.4): the account's public JWK, signed with
 * HS256 under the CA's key id and HMAC key (base64url, as the CA hands it out), for the newAccount URL.
 */
export function externalAccountBinding(eab: { kid: string; hmacKey: string }, newAccountUrl: string, accountJwk: PublicJwk): FlattenedJws {
  const protectedB64 = base64url(JSON.stringify({ alg: 'HS256', kid: eab.kid, url: newAccountUrl }));
  const payloadB64 = base64url(JSON.stringify(accountJwk));
  const signature = createHmac('sha256', Buffer.from(eab.hmacKey, 'base64url')).update(`${protectedB64}.${payloadB64}`).digest('base64url');
  return { protected: protectedB64, payload: payloadB64, signature };
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
