/**
 * An HTTP exchange that got no complete answer, in the same words for every server: "connection refused
 * (connect ECONNREFUSED 127.0.0.1:8500)", "no answer within 5000 ms", "its TLS certificate is not accepted (...)".
 */
import { describeSocketError, isCertificateError } from '../domain/network-failure.js';
import { codeOf, describeError, type Secrets } from './error-text.js';

/**
 * - `network`: refused, reset, unresolvable, TLS refused... (see `code`);
 * - `dead-socket`: a kept-alive connection the server had already closed, before any answer came;
 * - `timeout`: the deadline passed before the whole answer had arrived;
 * - `too-large`: the answer is larger than the request allowed.
 */
export type TransportFailureKind = 'network' | 'dead-socket' | 'timeout' | 'too-large';

/** Codes that say nothing reached the server: another endpoint may be tried even for a write. */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

export class HttpTransportError extends Error {
  override name = 'HttpTransportError';
  readonly kind: TransportFailureKind;
  /** Node's error code (ECONNREFUSED, ERR_TLS_CERT_ALTNAME_INVALID, ...); ETIMEDOUT for the deadline. */
  readonly code: string | undefined;
  /** The connection had come up, so the server may have received (and applied) the request. */
  readonly sent: boolean;

  /**
   * The cause is a copy of Node's error holding only its (scrubbed) message and code: the original may carry
   * the raw bytes of a broken answer (`rawPacket`), where a secret the server echoed would show.
   */
  constructor(cause: unknown, options: { kind: TransportFailureKind; connected: boolean; secrets: Secrets }) {
    const code = options.kind === 'timeout' ? 'ETIMEDOUT' : codeOf(cause);
    const raw = options.secrets.scrub(describeError(cause));
    super(wording(options.kind, code, raw), { cause: Object.assign(new Error(raw), code === undefined ? {} : { code }) });
    this.kind = options.kind;
    this.code = code;
    this.sent = options.connected && !NOT_CONNECTED_CODES.has(code ?? '');
  }
}

function wording(kind: TransportFailureKind, code: string | undefined, raw: string): string {
  if (kind !== 'network' && kind !== 'dead-socket') return raw;
  if (isCertificateError(code)) return `its TLS certificate is not accepted (${code}: ${raw})`;
  const phrase = describeSocketError(code);
  return phrase === undefined || raw.includes(phrase) ? raw : `${phrase} (${raw})`;
}
