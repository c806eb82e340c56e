import { X509Certificate } from 'node:crypto';
import type { ChallengeMethod, KeyType } from '../domain/choices.js';
import type { ExportFormat } from '../deploy/formats.js';
import type { HookCommands } from '../deploy/hooks.js';
import { storeKey, storePrefix } from '../store/keys.js';
import { OperationError, UsageError } from '../domain/errors.js';
import { visibleText } from '../domain/visible-text.js';
import { commonNameOf, pemCertificateBlocks } from '../pki/pem.js';
import type { Identifier } from '../domain/identifiers.js';

/** A CA's refusal that said when to ask again. */
export interface RateLimitMemory {
  /** ISO time before which the CA is not asked again for this certificate (or account). */
  until: string;
  /** What the CA said (its problem's detail, control and bidi characters made visible), or "HTTP 503". */
  detail: string;
  /** ISO time of the refusal. */
  at: string;
}

/** The settings used at issue time, kept so that `renew` needs none of the flags again. */
export interface RenewalSettings {
  /** ACME directory URL. */
  server: string;
  challenge: ChallengeMethod;
  httpPort: number;
  httpAddress: string | null;
  webroot: string | null;
  /**
   * Export directory given with --out: files go to <out>/<name>/. Null means each host's default
   * (<data dir>/live), so the nodes of a fleet each write to their own directory.
   */
  out: string | null;
  keyType: KeyType;
  email: string | null;
  /** Hook commands given at issue time; renew runs them again. */
  hooks: HookCommands;
  /** Formats written beside the PEM files on every renewal ('pem' is always written). */
  formats: ExportFormat[];
  /** Where the PKCS#12 password is read from at renewal (the password itself is never stored). */
  pkcs12PasswordFile: string | null;
  /**
   * Extra CA certificates (PEM) trusted for the CA, from --ca-bundle. The contents are kept, not the path:
   * the other hosts of a fleet do not have the file, and a file that moved must not break renewals.
   */
  caBundlePem: string | null;
  /** The CA's certificate profile asked for (--profile), or null for the CA's default. */
  profile: string | null;
  /**
   * --preferred-chain: the issuer common name of the topmost certificate of the chain to store when the CA
   * offers several (certbot's and lego's rule, matched exactly). Null keeps the CA's default chain.
   */
  preferredChain: string | null;
  /** --key-group: the group (name) given the private key files on every host that exports them; null: none. */
  keyGroup: string | null;
  /** --key-mode: the private key files' mode as typed ("0640"); null: 0600. */
  keyMode: string | null;
}

/** One issued certificate with its key, as the CA sent it. */
export interface CertificateVersion {
  /** 1 for the first certificate under this name, +1 per renewal. */
  version: number;
  /** Upper-case hex, as openssl prints it. */
  serial: string;
  notBefore: string;
  notAfter: string;
  issuer: string;
  issuedAt: string;
  certPem: string;
  /** Intermediates, without the leaf. */
  chainPem: string;
  keyPem: string;
  /** Fencing token of the lock lease held while this version was obtained (decimal); "0" for a version imported from certbot. */
  fence: string;
  /** Set once `acmectl revoke` revoked it at the CA. */
  revoked?: { at: string; reason: string };
}

export interface CertificateRecord {
  schema: 1;
  name: string;
  identifiers: Identifier[];
  settings: RenewalSettings;
  current: CertificateVersion;
  /** Earlier versions, newest first. */
  history: CertificateVersion[];
  createdAt: string;
  updatedAt: string;
  /** The CA refused an order with a Retry-After: not asked again before then (rate-limit-memory.ts). */
  rateLimited?: RateLimitMemory;
  /**
   * What the issuing CA last said about renewing the current version (ARI, RFC 9773); absent until asked, or
   * when the CA offers none. Only meaningful while `serial` is the current version's.
   */
  renewalInfo?: StoredRenewalInfo;
  /**
   * The last order attempted for this certificate (absent on records from before this was kept): when, and
   * whether it ended with a stored version. The last success is `current.issuedAt`.
   */
  lastAttempt?: LastAttempt;
}

export interface LastAttempt {
  at: string;
  ok: boolean;
  /** Why it failed (visible-safe, bounded); absent when it succeeded. */
  error?: string;
}

/** The CA's suggested renewal window for one certificate, as stored (times as ISO strings). */
export interface StoredRenewalInfo {
  /** The version it is about (upper-case hex, as CertificateVersion.serial). */
  serial: string;
  windowStart: string;
  windowEnd: string;
  /** A random moment inside the window, chosen once per window: the renewal time. */
  renewAt: string;
  /** Visible-safe; null when the CA gave none. */
  explanationURL: string | null;
  fetchedAt: string;
  /** Not asked again before this (the CA's Retry-After, bounded). */
  retryAfter: string;
}

export const HISTORY_LIMIT = 10;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** Whether checkCertificateName() accepts the name. */
export function isCertificateName(name: string): boolean {
  return NAME_PATTERN.test(name) && !name.includes('..');
}

/** A certificate name becomes a store key and a directory name: letters, digits, '.', '_', '-' only. */
export function checkCertificateName(name: string): string {
  if (!isCertificateName(name)) {
    throw new UsageError(`"${visibleText(name, 300)}" cannot be a certificate name`, { hint: 'use letters, digits, ".", "_" and "-" (e.g. --name example.com)' });
  }
  return name;
}

/**
 * The default name: the first identifier. An IPv6 address has its ':' turned into '-', with the zero groups a
 * leading or trailing '::' stands for written out, so that the name starts and ends with a digit or letter
 * (`::1` → `0--1`, `fe80::` → `fe80--0`).
 */
export function defaultCertificateName(identifiers: readonly Identifier[]): string {
  const value = identifiers[0]!.value;
  if (!value.includes(':')) return value;
  return `${value.startsWith(':') ? '0' : ''}${value}${value.endsWith(':') ? '0' : ''}`.replace(/:/g, '-');
}

export const certificateKey = (name: string): string => storeKey('certs', name);
export const certificatePrefix = (): string => storePrefix('certs');

export function encodeRecord(record: CertificateRecord): Uint8Array {
  return Buffer.from(JSON.stringify(record));
}

export function decodeRecord(bytes: Uint8Array, key: string): CertificateRecord {
  let record: CertificateRecord;
  try {
    record = JSON.parse(Buffer.from(bytes).toString('utf8')) as CertificateRecord;
  } catch (error) {
    throw new OperationError(`the store entry ${key} is not valid JSON`, { cause: error });
  }
  if (record?.schema !== 1 || typeof record.name !== 'string' || !record.current?.certPem) {
    throw new OperationError(`the store entry ${key} is not a certificate record this version of acmectl understands`);
  }
  // Fields added after the first records were written get their defaults.
  record.settings.hooks ??= { pre: null, post: null, deploy: null, failure: null };
  record.settings.hooks.failure ??= null;
  record.settings.formats ??= ['pem'];
  record.settings.pkcs12PasswordFile ??= null;
  record.settings.caBundlePem ??= null;
  record.settings.profile ??= null;
  record.settings.preferredChain ??= null;
  record.settings.keyGroup ??= null;
  record.settings.keyMode ??= null;
  record.history ??= [];
  return record;
}

export interface CertificateFacts {
  serial: string;
  notBefore: string;
  notAfter: string;
  issuer: string;
}

/** Serial, validity and issuer of a PEM certificate (the first one in the text). */
export function readCertificateFacts(certPem: string): CertificateFacts {
  const certificate = new X509Certificate(certPem);
  return {
    serial: certificate.serialNumber.toUpperCase(),
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: new Date(certificate.validTo).toISOString(),
    issuer: commonNameOf(certificate.issuer),
  };
}

/** The issuer common name of a version's topmost certificate (the root its chain leads to); null if unreadable. */
export function chainTopIssuer(version: Pick<CertificateVersion, 'certPem' | 'chainPem'>): string | null {
  const blocks = pemCertificateBlocks(version.certPem + version.chainPem);
  try {
    return commonNameOf(new X509Certificate(blocks[blocks.length - 1]!).issuer);
  } catch {
    // Versions stored before chains were checked were kept as the CA sent them.
    return null;
  }
}

/** Where this host writes a certificate's files: its stored --out, else this host's default. */
export function exportDirectoryOf(settings: Pick<RenewalSettings, 'out'>, hostDefault: string): string {
  return settings.out ?? hostDefault;
}

/** The PEM files of a version, as the exporter takes them. */
export function pemFilesOf(version: CertificateVersion): { certPem: string; chainPem: string; fullchainPem: string; keyPem: string } {
  return { certPem: version.certPem, chainPem: version.chainPem, fullchainPem: version.certPem + version.chainPem, keyPem: version.keyPem };
}

/** Splits a CA's PEM chain into the leaf and the rest; fullchain is leaf + chain. */
export function splitChain(chainPem: string): { certPem: string; chainPem: string; fullchainPem: string } {
  const blocks = pemCertificateBlocks(chainPem);
  if (blocks.length === 0) throw new OperationError('the CA sent no certificate');
  const certPem = `${blocks[0]}\n`;
  const rest = blocks.slice(1).map((block) => `${block}\n`).join('');
  return { certPem, chainPem: rest, fullchainPem: certPem + rest };
}
