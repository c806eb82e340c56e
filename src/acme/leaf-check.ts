import { createPublicKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { OperationError } from '../domain/errors.js';
import type { Identifier } from '../domain/identifiers.js';
import { pemCertificateBlocks } from '../pki/pem.js';

// A CA's clock may run a little ahead of ours; more than this, and the certificate is not usable yet.
const CLOCK_SKEW_MS = 60 * 60 * 1000;

/**
 * Checks the certificate the CA sent before anything stores it (docs/cli.md#data-safety): its public key is the one the CSR
 * was made from, its names are exactly the ordered identifiers (no more, no fewer), and it is valid now or
 * within the hour. Throws OperationError saying what is wrong; the CA's answer is not trusted otherwise.
 */
export function checkIssuedCertificate(chainPem: string, expected: { keyPem: string; identifiers: readonly Identifier[]; now: Date }): void {
  const leafPem = pemCertificateBlocks(chainPem)[0];
  if (!leafPem) throw new OperationError('the CA sent no certificate');
  const leaf = new X509Certificate(leafPem);
  const refuse = (what: string): never => {
    throw new OperationError(`the certificate the CA sent ${what}; it was not stored`, { hint: 'this is the CA\'s error: report it to the CA, and try again later' });
  };

  const publicKeyDer = (key: ReturnType<typeof createPublicKey>): Buffer => key.export({ type: 'spki', format: 'der' });
  if (!publicKeyDer(leaf.publicKey).equals(publicKeyDer(createPublicKey(expected.keyPem)))) refuse('is not for the key acmectl generated');

  const certified = namesIn(leaf);
  const ordered = new Set(expected.identifiers.map((i) => `${i.type}:${i.type === 'ip' ? canonicalIp(i.value) : i.value.toLowerCase()}`));
  const missing = [...ordered].filter((name) => !certified.has(name));
  const extra = [...certified].filter((name) => !ordered.has(name));
  if (missing.length > 0) refuse(`does not cover ${missing.map(plain).join(', ')}`);
  if (extra.length > 0) refuse(`also names ${extra.map(plain).join(', ')}, which were not ordered`);

  const notBefore = new Date(leaf.validFrom).getTime();
  const notAfter = new Date(leaf.validTo).getTime();
  if (!(notAfter > notBefore)) refuse('has no valid period');
  if (notAfter <= expected.now.getTime()) refuse(`expired already (${new Date(notAfter).toISOString()})`);
  if (notBefore > expected.now.getTime() + CLOCK_SKEW_MS) refuse(`is valid only from ${new Date(notBefore).toISOString()}: check this machine's clock`);
}

/** The certificate's subjectAltName entries as "dns:name" / "ip:address" (lower-case names, canonical addresses). */
function namesIn(certificate: X509Certificate): Set<string> {
  const names = new Set<string>();
  // Node writes "DNS:a.example, IP Address:127.0.0.1"; a comma cannot occur inside a DNS name or an address.
  for (const entry of (certificate.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) names.add(`dns:${entry.slice(4).toLowerCase()}`);
    else if (entry.startsWith('IP Address:')) names.add(`ip:${canonicalIp(entry.slice('IP Address:'.length))}`);
    else if (entry !== '') names.add(entry);
  }
  return names;
}

/** One spelling per address: Node prints IPv6 SANs in full ("0:0:0:0:0:0:0:1"), identifiers are compressed. */
function canonicalIp(address: string): string {
  if (isIP(address) !== 6) return address;
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

function plain(name: string): string {
  return name.replace(/^(dns|ip):/, '');
}
