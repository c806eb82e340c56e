import type { CaClient, ExternalAccountBinding } from '../acme/client.js';
import type { Identifier } from '../domain/identifiers.js';
import type { CertificateRecord, RenewalSettings, StoredRenewalInfo } from './certificate-record.js';

/** What the core is asked to do for one certificate, and how it reaches a CA. */

/** Opens a CA directory with an account key (and, when known, the account URL). */
export type CaConnector = (directoryUrl: string, accountKeyPem: string, options: CaConnectorOptions) => Promise<CaClient>;

export interface CaConnectorOptions {
  accountUrl?: string;
  eab?: ExternalAccountBinding;
  /** The CA bundle stored with the certificate or account; a bundle the user gives now takes precedence. */
  caBundlePem?: string | null;
}

export interface IssueRequest {
  name: string;
  identifiers: Identifier[];
  settings: RenewalSettings;
  /** Order even when the certificate is valid and not due. */
  force: boolean;
  /** Due when fewer than this many days are left (instead of the default third/half of the lifetime). */
  days?: number;
  account: { email: string | null; agreeTos: boolean; eab: ExternalAccountBinding | null; fetchEab?: () => Promise<ExternalAccountBinding> };
  /**
   * The directory to order from when it is not settings.server (a dry run orders from the staging CA).
   * The stored settings keep settings.server.
   */
  orderFrom?: string;
  /** Do everything but write files (a dry run's store is an OverlayStore that forgets on close). */
  dryRun?: boolean;
  /**
   * When this run began. A version stored after it (by another node or process) is the renewal this run
   * would make: `--force` on three nodes at once renews once, not three times.
   */
  startedAt?: Date;
  /** ARI info fetched this run (renewal-info.ts), when it could not be stored; else the stored one counts. */
  renewalInfo?: StoredRenewalInfo;
  /**
   * The record as the run read it a moment ago (a renew run reads every record in one batched read): the first
   * look, before the lock, uses it instead of reading the record again. Under the lock the record is always read
   * afresh.
   */
  storedRecord?: CertificateRecord;
}
