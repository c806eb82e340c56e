/**
 * An HTTP exchange with a store's server that got no complete answer, in the same words for etcd, Consul and
 * Vault: "connection refused (connect ECONNREFUSED 127.0.0.1:8500)", "no answer within 5000 ms", "its TLS
 * certificate is not accepted (...)"; and the hint that goes with it.
 */
import { describeSocketError, isCertificateError } from '../../domain/network-failure.js';
import { codeOf, describeError, type Secrets } from '../errors.js';

/**
 * - `network`: refused, reset, unresolvable, TLS refused... (see `code`);
 * - `dead-socket`: a kept-alive connection the server had already closed, before any answer came;
 * - `timeout`: the deadline passed before the whole answer had arrived;
 * - `too-large`: the answer is larger than the request allowed.
 */
export type TransportFailureKind = 'network' | 'dead-socket' | 'timeout' | 'too-large';

/** Codes that say nothing reached the server: another endpoint may be tried even for a write. */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const NOT_TLS = /wrong version number|packet length too long|EPROTO/i;

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

/** How a hint names the server: `Consul`, where it was sought, and the URL scheme for plain HTTP. */
export interface ServerNaming {
  server: string;
  /** `http://127.0.0.1:8500`, or several such joined with ", ". */
  address: string;
  plainScheme: string;
}

/** What a user can do about a failed exchange. */
export function transportHint(error: HttpTransportError, naming: ServerNaming): string {
  const { server, address, plainScheme } = naming;
  if (isCertificateError(error.code)) {
    return (
      `${server}'s TLS certificate is not trusted: give the CA that signed it with --ca-bundle FILE, set ?servername=NAME ` +
      'when the certificate names another host, or (for a test server only) ?tls_verify=false'
    );
  }
  if (NOT_TLS.test(`${error.code ?? ''} ${error.message}`)) {
    return `the server does not speak TLS there: write ${plainScheme}:// for plain HTTP, or check the port`;
  }
  switch (error.kind) {
    case 'timeout':
      return `check that ${server} at ${address} is reachable and not overloaded, or allow more time with ?timeout=MILLISECONDS`;
    case 'too-large':
      return `no answer of ${server} to acmectl is that large: check that the store URL points at ${server}`;
    default:
      return `check that ${server} is running and reachable at ${address}, or fix the --store URL`;
  }
}
