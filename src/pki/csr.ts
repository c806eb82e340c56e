/**
 * The PKCS#10 certificate signing request (RFC 2986) sent to finalize an order (RFC 8555 §7.4): the names in a
 * subjectAltName extension request, the first DNS name also as the subject's common name when it fits, signed
 * with the certificate key.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Identifier } from '../domain/identifiers.js';
import { bitString, contextTag, nullValue, objectIdentifier, octetString, sequence, set, smallInteger, utf8String } from './der.js';

// RFC 5280's upper bound for a common name; longer first names go into the SAN extension only.
const MAX_COMMON_NAME = 64;

const OID = {
  commonName: '2.5.4.3',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  sha256WithRsa: '1.2.840.113549.1.1.11',
};

/** A DER certificate signing request for the identifiers, signed with the certificate key. */
export async function createCsrDer(identifiers: readonly Identifier[], keyPem: string): Promise<Uint8Array> {
  const key = createPrivateKey(keyPem);
  const first = identifiers[0];
  const commonName = first && first.type === 'dns' && first.value.length <= MAX_COMMON_NAME ? first.value : undefined;
  const subject = commonName === undefined ? sequence() : sequence(set(sequence(objectIdentifier(OID.commonName), utf8String(commonName))));
  const subjectAltName = sequence(objectIdentifier(OID.subjectAltName), octetString(sequence(...identifiers.map(generalName))));
  const extensionRequest = sequence(objectIdentifier(OID.extensionRequest), set(sequence(subjectAltName)));
  const publicKeyInfo = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const requestInfo = sequence(smallInteger(0), subject, publicKeyInfo, contextTag(0, extensionRequest, true));
  const { hash, algorithm } = signatureAlgorithm(key);
  // X.509 signatures are DER-encoded (Node's default for ECDSA), unlike JWS's.
  return sequence(requestInfo, algorithm, bitString(sign(hash, requestInfo, key)));
}

/** A subjectAltName entry (RFC 5280 §4.2.1.6): dNSName [2] IA5String, iPAddress [7] the address's octets. */
function generalName(identifier: Identifier): Buffer {
  return identifier.type === 'dns' ? contextTag(2, Buffer.from(identifier.value, 'ascii'), false) : contextTag(7, ipOctets(identifier.value), false);
}

/** The signature algorithm for the certificate key: ECDSA with SHA-256 (P-256) or SHA-384 (P-384), or RSA with SHA-256. */
function signatureAlgorithm(key: KeyObject): { hash: string; algorithm: Buffer } {
  if (key.asymmetricKeyType === 'rsa') return { hash: 'sha256', algorithm: sequence(objectIdentifier(OID.sha256WithRsa), nullValue()) };
  if (key.asymmetricKeyType === 'ec') {
    const p384 = key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
    return { hash: p384 ? 'sha384' : 'sha256', algorithm: sequence(objectIdentifier(p384 ? OID.ecdsaWithSha384 : OID.ecdsaWithSha256)) };
  }
  throw new Error(`a ${String(key.asymmetricKeyType)} key cannot sign a certificate request here (EC or RSA only)`);
}

/** The 4 or 16 octets of an IPv4 or IPv6 address (as identifiers.ts writes them; an IPv6 may end in dotted IPv4). */
export function ipOctets(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const groups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!isIPv4(group)) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [a * 256 + b, c * 256 + d];
        });
  const before = groups(head);
  const after = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? before : [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
  if (all.length !== 8 || all.some((group) => !(group >= 0 && group <= 0xffff))) throw new Error(`${address} is not an IP address`);
  const octets = Buffer.alloc(16);
  all.forEach((group, i) => octets.writeUInt16BE(group, i * 2));
  return octets;
}
