import type { Identifier } from '../domain/identifiers.js';

// RFC 5280's upper bound for a common name; longer first names go into the SAN extension only.
const MAX_COMMON_NAME = 64;

/** A DER certificate signing request for the identifiers, signed with the certificate key. */
export async function createCsrDer(identifiers: readonly Identifier[], keyPem: string): Promise<Uint8Array> {
  // acme-client's CSR builder, loaded on first use (the module is cached, so the ACME transport shares it).
  const imported = (await import('acme-client')) as unknown as { default?: typeof import('acme-client') };
  const acme = imported.default ?? (imported as unknown as typeof import('acme-client'));
  const first = identifiers[0];
  const commonName = first && first.type === 'dns' && first.value.length <= MAX_COMMON_NAME ? first.value : undefined;
  const [, csrPem] = await acme.crypto.createCsr({ ...(commonName ? { commonName } : {}), altNames: identifiers.map((i) => i.value) }, keyPem);
  const base64 = csrPem.toString().replace(/-----(BEGIN|END) CERTIFICATE REQUEST-----/g, '').replace(/\s+/g, '');
  return Buffer.from(base64, 'base64');
}
