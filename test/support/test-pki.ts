// Small certificate hierarchies for unit tests: chain handling, and what the scripted CA issues at finalize (node-forge signs; node:crypto makes the keys).
import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import forge from 'node-forge';

export interface Authority {
  /** The certificate as PEM (ending in a newline). */
  pem: string;
  name: string;
  key: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}

function newKey(): { key: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
  return { key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

function sign(subject: string, publicKey: forge.pki.rsa.PublicKey, issuer: { name: string; key: forge.pki.rsa.PrivateKey }, ca: boolean): string {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = publicKey;
  certificate.serialNumber = `01${randomBytes(8).toString('hex')}`;
  certificate.validity.notBefore = new Date(Date.now() - 60_000);
  certificate.validity.notAfter = new Date(Date.now() + 86_400_000);
  certificate.setSubject([{ name: 'commonName', value: subject }]);
  certificate.setIssuer([{ name: 'commonName', value: issuer.name }]);
  certificate.setExtensions(
    ca
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'subjectAltName', altNames: [{ type: 2, value: subject }] },
        ],
  );
  certificate.sign(issuer.key, forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate).replace(/\r\n/g, '\n');
}

/** A self-signed root. */
export function root(name: string): Authority {
  const { key, publicKey } = newKey();
  return { pem: sign(name, publicKey, { name, key }, true), name, key, publicKey };
}

/** An intermediate CA certificate issued by `issuer`; give `reuse` to certify an existing CA's name and key again (a cross-sign). */
export function intermediate(name: string, issuer: Authority, reuse?: Authority): Authority {
  const { key, publicKey } = reuse ?? newKey();
  return { pem: sign(name, publicKey, issuer, true), name, key, publicKey };
}

/** An end-entity certificate for `name` issued by `issuer` (PEM). */
export function leaf(name: string, issuer: Authority): string {
  return sign(name, newKey().publicKey, issuer, false);
}

/**
 * An end-entity certificate issued by `issuer` with the given names and validity, for a fresh key unless
 * `publicKeyPem` gives one; returns the certificate and the PEM of its key pair's private half (when fresh).
 */
export function leafWith(options: { dns?: string[]; ip?: string[]; issuer: Authority; notBefore?: Date; notAfter?: Date; publicKeyPem?: string }): { pem: string; keyPem: string | null } {
  const fresh = options.publicKeyPem ? null : newKey();
  const publicKey = options.publicKeyPem ? (forge.pki.publicKeyFromPem(options.publicKeyPem) as forge.pki.rsa.PublicKey) : fresh!.publicKey;
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = publicKey;
  certificate.serialNumber = `01${randomBytes(8).toString('hex')}`;
  certificate.validity.notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  certificate.validity.notAfter = options.notAfter ?? new Date(Date.now() + 86_400_000);
  certificate.setSubject([{ name: 'commonName', value: options.dns?.[0] ?? 'ip' }]);
  certificate.setIssuer([{ name: 'commonName', value: options.issuer.name }]);
  const altNames = [...(options.dns ?? []).map((value) => ({ type: 2, value })), ...(options.ip ?? []).map((ip) => ({ type: 7, ip }))];
  certificate.setExtensions([{ name: 'basicConstraints', cA: false }, { name: 'subjectAltName', altNames }]);
  certificate.sign(options.issuer.key, forge.md.sha256.create());
  return { pem: forge.pki.certificateToPem(certificate).replace(/\r\n/g, '\n'), keyPem: fresh ? forge.pki.privateKeyToPem(fresh.key) : null };
}

// The signature algorithms a CSR from acmectl can carry (ECDSA for EC keys, PKCS#1 v1.5 for RSA), by OID.
const CSR_SIGNATURE_HASHES: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

/**
 * What a CA does at finalize: an end-entity certificate issued by `issuer` for the public key of a DER
 * certificate signing request, naming `dns`/`ip`. Any key type: node-forge reads only RSA keys, so the
 * request's SubjectPublicKeyInfo is copied into the certificate byte for byte. Throws when the request's
 * own signature does not verify with that key.
 */
export function leafForCsr(csrDer: Uint8Array, options: { dns?: string[]; ip?: string[]; issuer: Authority; notBefore?: Date; notAfter?: Date }): string {
  const { asn1 } = forge;
  const der = (node: forge.asn1.Asn1): Buffer => Buffer.from(asn1.toDer(node).getBytes(), 'binary');
  // decodeBitStrings: false keeps the key and the signature as the raw bytes they are.
  const fromDer = asn1.fromDer as unknown as (bytes: forge.util.ByteStringBuffer, options: { decodeBitStrings: boolean }) => forge.asn1.Asn1;
  const request = fromDer(forge.util.createBuffer(Buffer.from(csrDer).toString('binary')), { decodeBitStrings: false });
  const [info, algorithm, signature] = request.value as forge.asn1.Asn1[];
  const publicKeyInfo = (info!.value as forge.asn1.Asn1[])[2]!;
  const algorithmOid = asn1.derToOid((algorithm!.value as forge.asn1.Asn1[])[0]!.value as string);
  const hash = CSR_SIGNATURE_HASHES[algorithmOid];
  if (!hash) throw new Error(`the CSR is signed with an algorithm this test CA does not know (${algorithmOid})`);
  const publicKey = createPublicKey({ key: der(publicKeyInfo), format: 'der', type: 'spki' });
  // A BIT STRING's first byte counts the unused bits of the last one.
  if (!verify(hash, der(info!), publicKey, Buffer.from(signature!.value as string, 'binary').subarray(1))) {
    throw new Error('the CSR signature does not verify with its public key');
  }

  const certificate = forge.pki.createCertificate();
  certificate.publicKey = options.issuer.publicKey; // a placeholder: replaced by the request's key below
  certificate.serialNumber = `01${randomBytes(8).toString('hex')}`;
  certificate.validity.notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  certificate.validity.notAfter = options.notAfter ?? new Date(Date.now() + 86_400_000);
  certificate.setSubject([{ name: 'commonName', value: options.dns?.[0] ?? options.ip?.[0] ?? 'leaf' }]);
  certificate.setIssuer([{ name: 'commonName', value: options.issuer.name }]);
  const altNames = [...(options.dns ?? []).map((value) => ({ type: 2, value })), ...(options.ip ?? []).map((ip) => ({ type: 7, ip }))];
  certificate.setExtensions([{ name: 'basicConstraints', cA: false }, { name: 'subjectAltName', altNames }]);
  // certificate.sign() without its own TBSCertificate: forge would encode the placeholder key.
  const md = forge.md.sha256.create();
  certificate.signatureOid = certificate.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  // getTBSCertificate is forge's own (certificate.sign() uses it), missing from its typings.
  const { getTBSCertificate } = forge.pki as unknown as { getTBSCertificate(certificate: forge.pki.Certificate): forge.asn1.Asn1 };
  const tbs = getTBSCertificate(certificate);
  (tbs.value as forge.asn1.Asn1[])[6] = publicKeyInfo; // version, serial, signature, issuer, validity, subject, key
  md.update(asn1.toDer(tbs).getBytes());
  certificate.tbsCertificate = tbs;
  certificate.signature = options.issuer.key.sign(md);
  return forge.pki.certificateToPem(certificate).replace(/\r\n/g, '\n');
}
