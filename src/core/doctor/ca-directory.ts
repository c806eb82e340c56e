import { describeOffer } from '../../acme/ca-offer.js';
import type { CaOffer } from '../../acme/ca-offer.js';
import type { AcmeDirectory } from '../../acme/client.js';
import { AcmectlError } from '../../domain/errors.js';
import type { Check } from './check.js';
import { fail, ok } from './check.js';

/** Reads a CA's directory and its Date header (CaClient.readDirectoryDated with the command's timeouts and trust). */
export type DirectoryReader = (server: string, caBundlePem: string | null) => Promise<{ directory: AcmeDirectory; serverDate: Date | null }>;

export interface CaReading {
  check: Check;
  /** What the CA offers, as `acmectl ca` shows it; null when it could not be read. */
  offer: CaOffer | null;
  serverDate: Date | null;
  /** This machine's clock when the answer came, to compare with serverDate. */
  readAt: Date;
}

/** The CA directory is reachable and an ACME directory; the detail says what it offers. */
export async function checkCaDirectory(server: string, preset: string | null, caBundlePem: string | null, read: DirectoryReader, now: () => Date): Promise<CaReading> {
  try {
    const { directory, serverDate } = await read(server, caBundlePem);
    const readAt = now();
    const offer = describeOffer(server, preset, directory);
    return { check: ok('ca', null, `${server}${preset ? ` (${preset})` : ''} answers: ${offerSummary(offer)}`), offer, serverDate, readAt };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof AcmectlError && error.hint ? error.hint : "check the --server URL and this machine's network access to it";
    return { check: fail('ca', null, message, hint), offer: null, serverDate: null, readAt: now() };
  }
}

function offerSummary(offer: CaOffer): string {
  const profiles = Object.keys(offer.profiles);
  return [
    `profiles ${profiles.length > 0 ? profiles.join(', ') : 'none'}`,
    `renewal info (ARI) ${offer.renewalInfo ? 'yes' : 'no'}`,
    `EAB required ${offer.externalAccountRequired ? 'yes' : 'no'}`,
    ...(offer.termsOfService ? [`terms ${offer.termsOfService}`] : []),
  ].join(', ');
}
