import { visibleText } from '../domain/visible-text.js';
import type { AcmeDirectory } from './client.js';

/** What a CA's directory says it offers, as `acmectl ca` shows it. */
export interface CaOffer {
  server: string;
  preset: string | null;
  termsOfService: string | null;
  website: string | null;
  caaIdentities: string[];
  externalAccountRequired: boolean;
  /** ACME Renewal Information (RFC 9773): the CA says when to renew. */
  renewalInfo: boolean;
  /** Certificate profiles by name, with the CA's description. */
  profiles: Record<string, string>;
  keyChange: boolean;
  revocation: boolean;
}

/** The directory's offer with every text from the network made safe to show. */
export function describeOffer(server: string, preset: string | null, directory: AcmeDirectory): CaOffer {
  const meta = directory.meta ?? {};
  const text = (value: unknown, max = 500): string | null => (typeof value === 'string' && value !== '' ? visibleText(value, max) : null);
  const profiles: Record<string, string> = {};
  for (const [name, description] of Object.entries(isRecord(meta.profiles) ? meta.profiles : {}).slice(0, 50)) {
    profiles[visibleText(name, 100)] = text(description) ?? '';
  }
  return {
    server,
    preset,
    termsOfService: text(meta.termsOfService),
    website: text(meta.website),
    caaIdentities: Array.isArray(meta.caaIdentities) ? meta.caaIdentities.flatMap((id) => (typeof id === 'string' ? [visibleText(id, 253)] : [])).slice(0, 20) : [],
    externalAccountRequired: meta.externalAccountRequired === true,
    renewalInfo: typeof directory.renewalInfo === 'string',
    profiles,
    keyChange: typeof directory.keyChange === 'string',
    revocation: typeof directory.revokeCert === 'string',
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
