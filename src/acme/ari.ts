import { X509Certificate } from 'node:crypto';
import { OperationError } from '../domain/errors.js';
import { visibleText } from '../domain/visible-text.js';
import { parseRetryAfter } from './retry-after.js';
import { unauthenticatedGet } from './transport.js';

/**
 * ACME Renewal Information (RFC 9773): the CertID that names a certificate to its CA, and the unauthenticated
 * GET of `<renewalInfo>/<CertID>` that answers the window in which the CA suggests renewing it.
 */

/**
 * The certificate's CertID (RFC 9773 §4.1): base64url(keyIdentifier of its Authority Key Identifier) "."
 * base64url(the content octets of its DER serial INTEGER). The serial is taken as encoded in the certificate,
 * so a serial with the high bit set keeps its leading 0x00 (ZeroSSL refuses the form without it).
 */
export function certId(certificatePem: string): string {
  const der = new X509Certificate(certificatePem).raw;
  const certificate = readTlv(der, 0, 0x30, 'the certificate');
  const tbs = readTlv(der, certificate.start, 0x30, 'tbsCertificate');
  let at = tbs.start;
  if (der[at] === 0xa0) at = readTlv(der, at, 0xa0, 'the version').end;
  const serial = readTlv(der, at, 0x02, 'the serial number');
  if (serial.end - serial.start === 0) throw new OperationError('the certificate has an empty serial number');
  // issuer, signature algorithm, validity, subject, subjectPublicKeyInfo, then optional [1], [2], [3].
  at = serial.end;
  for (let skip = 0; skip < 5; skip++) at = readTlv(der, at, undefined, 'tbsCertificate').end;
  let keyIdentifier: Buffer | undefined;
  while (at < tbs.end) {
    const field = readTlv(der, at, undefined, 'tbsCertificate');
    if (der[at] === 0xa3) {
      const extensions = readTlv(der, field.start, 0x30, 'the extensions');
      for (let e = extensions.start; e < extensions.end; ) {
        const extension = readTlv(der, e, 0x30, 'an extension');
        const oid = readTlv(der, extension.start, 0x06, 'an extension id');
        if (der.subarray(oid.start, oid.end).equals(AKI_OID)) {
          let v = oid.end;
          if (der[v] === 0x01) v = readTlv(der, v, 0x01, 'the critical flag').end;
          const value = readTlv(der, v, 0x04, 'the extension value');
          const aki = readTlv(der, value.start, 0x30, 'the Authority Key Identifier');
          for (let k = aki.start; k < aki.end; ) {
            const part = readTlv(der, k, undefined, 'the Authority Key Identifier');
            if (der[k] === 0x80) keyIdentifier = der.subarray(part.start, part.end);
            k = part.end;
          }
        }
        e = extension.end;
      }
    }
    at = field.end;
  }
  if (!keyIdentifier || keyIdentifier.length === 0) throw new OperationError('the certificate has no Authority Key Identifier, so it has no ARI CertID');
  return `${keyIdentifier.toString('base64url')}.${der.subarray(serial.start, serial.end).toString('base64url')}`;
}

const AKI_OID = Buffer.from([0x55, 0x1d, 0x23]); // 2.5.29.35

interface Tlv {
  /** First content octet. */
  start: number;
  /** First octet after the content. */
  end: number;
}

function readTlv(der: Buffer, at: number, tag: number | undefined, what: string): Tlv {
  const bad = (): never => {
    throw new OperationError(`the certificate cannot be read for its ARI CertID (${what})`);
  };
  if (at + 2 > der.length || (tag !== undefined && der[at] !== tag)) bad();
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > der.length) bad();
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i]!;
    start += octets;
  }
  const end = start + length;
  if (end > der.length) bad();
  return { start, end };
}

/** What a CA suggests (RFC 9773 §4.2), checked. */
export interface RenewalInfo {
  start: Date;
  end: Date;
  /** Shown to the user; made visible-safe. Null when the CA gave none (or an unusable one). */
  explanationURL: string | null;
  /** When to ask again: the Retry-After, bounded (see retryAfterMs). */
  retryAfterMs: number;
}

/** RFC 9773 §4.3: without Retry-After, ask again in about 6 hours. */
export const DEFAULT_RETRY_AFTER_MS = 6 * 3600_000;
/** A CA asking to be polled every few seconds would mean a request per certificate per run. */
export const MIN_RETRY_AFTER_MS = 60_000;
/** A CA saying "in a year" must not keep a certificate away from a window change for that long. */
export const MAX_RETRY_AFTER_MS = 7 * 86_400_000;

export function boundedRetryAfterMs(header: unknown, now: number): number {
  const ms = parseRetryAfter(header, now);
  if (ms === undefined) return DEFAULT_RETRY_AFTER_MS;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, ms));
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(2200, 0, 1);

/** Checks a renewalInfo answer (body already parsed); throws an OperationError saying what is wrong. */
export function parseRenewalInfo(body: unknown, retryAfterHeader: unknown, now: number): RenewalInfo {
  const data = typeof body === 'string' ? parseJson(body) : body;
  const window = (data as { suggestedWindow?: unknown } | null)?.suggestedWindow as { start?: unknown; end?: unknown } | undefined;
  if (!window || typeof window !== 'object') throw new OperationError('the renewal information has no suggestedWindow');
  const time = (value: unknown, name: string): Date => {
    if (typeof value !== 'string' || value.length > 40 || !RFC3339.test(value)) throw new OperationError(`the renewal information has no usable suggestedWindow.${name}`);
    const ms = Date.parse(value);
    if (Number.isNaN(ms) || ms < EARLIEST || ms > LATEST) throw new OperationError(`the renewal information's suggestedWindow.${name} (${visibleText(value, 40)}) is not a sane time`);
    return new Date(ms);
  };
  const start = time(window.start, 'start');
  const end = time(window.end, 'end');
  if (start.getTime() >= end.getTime()) throw new OperationError('the renewal information\'s suggestedWindow ends before it starts');
  return { start, end, explanationURL: explanationUrlOf((data as { explanationURL?: unknown }).explanationURL), retryAfterMs: boundedRetryAfterMs(retryAfterHeader, now) };
}

/** An http(s) URL, at most 1000 characters, shown visible-safe; anything else is dropped. */
function explanationUrlOf(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 1000) return null;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  } catch {
    return null;
  }
  return visibleText(value, 1000);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new OperationError('the renewal information is not JSON');
  }
}

export interface FetchRenewalInfoOptions {
  /** The directory's renewalInfo URL. */
  renewalInfoUrl: string;
  certificatePem: string;
  /** Extra CA certificates trusted for the CA's origin (the ones stored with the certificate). */
  caBundlePem?: string | null;
  requestTimeoutMs: number;
  /** The command's signal: aborts the request at once. */
  signal?: AbortSignal;
  now?: () => Date;
}

/** GET <renewalInfo>/<CertID> (unauthenticated, RFC 9773 §4.2), checked. Throws an OperationError when it fails. */
export async function fetchRenewalInfo(options: FetchRenewalInfoOptions): Promise<RenewalInfo> {
  const url = `${options.renewalInfoUrl.replace(/\/+$/, '')}/${certId(options.certificatePem)}`;
  // The bundle is trusted for the renewalInfo URL's origin, the CA's own.
  const answer = await unauthenticatedGet(url, options);
  if (answer.status !== 200) throw new OperationError(`the CA answered HTTP ${answer.status} for the renewal information`);
  return parseRenewalInfo(answer.data, answer.headers['retry-after'], (options.now?.() ?? new Date()).getTime());
}
