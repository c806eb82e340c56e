/** PEM text helpers shared by every layer (the CA's chains, --ca-bundle files, exports). */

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificate blocks of a PEM text, in order, each without a trailing newline. */
export function pemCertificateBlocks(text: string): string[] {
  return text.match(CERTIFICATE_BLOCK) ?? [];
}

/** The CN of an X509Certificate subject or issuer ("C=US\nO=X\nCN=Y" → "Y"), else the whole name on one line. */
export function commonNameOf(distinguishedName: string): string {
  return distinguishedName.split('\n').find((line) => line.startsWith('CN='))?.slice(3) ?? distinguishedName.replace(/\n/g, ', ');
}
