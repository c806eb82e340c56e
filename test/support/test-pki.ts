// Small certificate hierarchies for unit tests of chain handling (node-forge signs; node:crypto makes the keys).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
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
