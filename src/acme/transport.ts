/**
 * Every request acmectl makes to a CA, over the one HTTP client (net/http-client.ts): the trust chosen for the
 * CA's origin, keep-alive connections per origin, one deadline for the whole exchange, the answer cap, the
 * command's signal, and failures in the words users see. Signing is not done here (jws.ts, client.ts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { abortedError, OperationError } from '../domain/errors.js';
import { describeSocketError, isCertificateError } from '../domain/network-failure.js';
import { visibleText } from '../domain/visible-text.js';
import { HttpClient } from '../net/http-client.js';
import { HttpTransportError } from '../net/transport-error.js';
import { abortableSleep } from './polling.js';
import { parseRetryAfter } from './retry-after.js';

export interface TransportOptions {
  /** The deadline of each request, for the whole exchange: connecting, sending, the headers and the whole body. */
  requestTimeoutMs: number;
  /** The command's signal (SIGINT/SIGTERM/SIGHUP): a request in flight is abandoned at once when it aborts. */
  signal?: AbortSignal;
}

/** The CA could not be reached at all (refused, unresolvable, TLS failure, timeout): no HTTP response. */
export class CaUnreachableError extends OperationError {
  readonly code: string | undefined;
  constructor(url: string | undefined, code: string | undefined, message: string, timeoutMs: number) {
    const where = url ? ` at ${visibleText(url, 300)}` : '';
    super(`could not reach the CA${where}: ${describeNetworkFailure(code, message, timeoutMs)}`, { hint: hintFor(code) });
    this.code = code;
  }
}

/** A CA's answer: any status; the body parsed as JSON when it is JSON, else its text ('' when empty). */
export interface CaAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  data: unknown;
}

// Unsigned requests (the directory, newNonce, renewalInfo) answered 5xx are asked again a few quick times, and
// signed ones are signed again (CaClient.signed()), both after the CA's Retry-After when it is at most
// LONGEST_RETRY_AFTER_S, else after 1 s, 2 s, 3 s. Rate limits (429), and a wait longer than that, are not slept
// through: the answer goes to acmectl, which reports it and remembers the CA's Retry-After
// (core/rate-limit-memory.ts).
export const SERVER_ERROR_RETRIES = 3;
export const LONGEST_RETRY_AFTER_S = 10;
/**
 * The largest answer read from a CA. ACME answers are small: an order for 100 names or a certificate chain is a
 * few KiB to a few tens of KiB. A CA, or something posing as one, cannot make acmectl hold more than this in
 * memory per request. No Accept-Encoding is sent, so what is counted is what is kept.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;
/** RFC 8555 §6.1: a client sends a User-Agent (Pebble 2.10 refuses requests without one). */
const USER_AGENT = `acmectl (Node.js ${process.version})`;
/** A client's own deadline, never used: every CA request brings the command's --request-timeout. */
const UNUSED_CLIENT_DEADLINE_MS = 60_000;

/** The signal of the command this process runs (TransportOptions.signal). */
let commandSignal: AbortSignal | undefined;

/**
 * Extra trusted CA certificates per CA origin (`--ca-bundle`, or the bundle stored with a certificate or an
 * account). One renew run may talk to several CAs, each with its own private root: a root trusted for one CA
 * is never trusted for another. Origins without a bundle use Node's built-in roots.
 */
const bundlesByOrigin = new Map<string, Set<string>>();
/** One HTTP client (one keep-alive pool) per CA origin, made with that origin's trust. */
const clientsByOrigin = new Map<string, HttpClient>();

/** Trusts the PEM certificates in `caBundlePem` (besides Node's roots) for requests to the origin of `url`. */
export function trustForOrigin(url: string, caBundlePem: string): void {
  const origin = originOf(url);
  if (origin === undefined) return;
  const bundles = bundlesByOrigin.get(origin) ?? new Set<string>();
  if (bundles.has(caBundlePem)) return;
  bundles.add(caBundlePem);
  bundlesByOrigin.set(origin, bundles);
  // The next request makes a client with the new trust; requests in flight finish on the old one.
  clientsByOrigin.delete(origin);
}

function clientFor(url: URL): HttpClient {
  let client = clientsByOrigin.get(url.origin);
  if (!client) {
    const bundles = [...(bundlesByOrigin.get(url.origin) ?? [])];
    client = new HttpClient({
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      trust: { tlsVerify: true, ...(bundles.length > 0 ? { caBundlePem: bundles.join('\n') } : {}) },
      timeoutMs: UNUSED_CLIENT_DEADLINE_MS,
    });
    clientsByOrigin.set(url.origin, client);
  }
  return client;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * One request to a CA, answered with whatever status the CA chose. Rejects with CaUnreachableError when no
 * whole answer came within the deadline, an OperationError for an answer over MAX_ANSWER_BYTES, and an
 * AbortedError (at once) when the command's signal aborts.
 */
export async function caRequest(url: string, request: { method: 'GET' | 'HEAD' | 'POST'; body?: string }, options: TransportOptions): Promise<CaAnswer> {
  // One command runs per process: its signal, once given, stays in force for every later request.
  if (options.signal) commandSignal = options.signal;
  const command = commandSignal;
  if (command?.aborted) throw abortedError(command, `before asking ${shownUrl(url)}`);
  const timeoutMs = options.requestTimeoutMs;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new CaUnreachableError(url, undefined, 'not a URL', timeoutMs);
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new CaUnreachableError(url, undefined, `${target.protocol} is not http or https`, timeoutMs);
  try {
    const answer = await clientFor(target).request({
      host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
      method: request.method,
      path: `${target.pathname}${target.search}`,
      headers: {
        'user-agent': USER_AGENT,
        accept: 'application/json, application/pem-certificate-chain, */*',
        ...(request.body !== undefined ? { 'content-type': 'application/jose+json' } : {}),
      },
      ...(request.body !== undefined ? { body: request.body } : {}),
      // A signed request sent again on a fresh connection, after the server had closed the kept-alive one, is
      // harmless: a CA that did get the first one refuses the spent nonce (badNonce), and signed() signs again.
      idempotent: true,
      maxAnswerBytes: MAX_ANSWER_BYTES,
      timeoutMs,
      ...(command ? { signal: command } : {}),
    });
    return { status: answer.status, headers: answer.headers, data: parseBody(answer.body) };
  } catch (error) {
    if (command?.aborted) throw abortedError(command, `while waiting for ${shownUrl(url)}`);
    if (!(error instanceof HttpTransportError)) throw error;
    if (error.kind === 'too-large') {
      throw new OperationError(`the CA's answer from ${shownUrl(url)} is larger than ${MAX_ANSWER_BYTES / 1024} KiB; not reading it`, {
        hint: 'no ACME answer is that large: check the --server URL',
      });
    }
    if (error.kind === 'timeout') throw new CaUnreachableError(url, 'ETIMEDOUT', 'deadline', timeoutMs);
    const cause = error.cause instanceof Error ? error.cause.message : error.message;
    throw new CaUnreachableError(url, error.code, cause, timeoutMs);
  }
}

/**
 * An unsigned request (GET or HEAD: the directory, newNonce, a renewalInfo URL), asked again after a server error
 * as SERVER_ERROR_RETRIES says. Any status comes back; the caller judges it.
 */
export async function unsignedRequest(url: string, method: 'GET' | 'HEAD', options: TransportOptions): Promise<CaAnswer> {
  for (let round = 1; ; round++) {
    const answer = await caRequest(url, { method }, options);
    const wait = round <= SERVER_ERROR_RETRIES ? serverErrorWaitMs(answer, round) : undefined;
    if (wait === undefined) return answer;
    await abortableSleep(wait, commandSignal);
  }
}

/**
 * How long to wait before asking again after an answer: for a server error (5xx), the CA's Retry-After when it
 * is at most LONGEST_RETRY_AFTER_S, else `round` seconds; undefined when the answer is to be taken as it is.
 */
export function serverErrorWaitMs(answer: CaAnswer, round: number): number | undefined {
  if (answer.status < 500 || answer.status > 599) return undefined;
  const asked = parseRetryAfter(answer.headers['retry-after']);
  if (asked === undefined) return round * 1000;
  return asked <= LONGEST_RETRY_AFTER_S * 1000 ? asked : undefined;
}

/**
 * An unauthenticated GET to a CA (its directory, a renewalInfo URL) through the same HTTP layer as every other
 * request: timeouts, the answer cap, and trust for the CA's origin (`caBundlePem`, when given).
 */
export async function unauthenticatedGet(url: string, options: TransportOptions & { caBundlePem?: string | null }): Promise<CaAnswer> {
  if (options.caBundlePem) trustForOrigin(url, options.caBundlePem);
  return unsignedRequest(url, 'GET', options);
}

/** JSON when the body is JSON (problem documents come as application/problem+json), else the text. */
function parseBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A URL for a message: it may have come from the CA, so its control characters are made visible. */
function shownUrl(url: string | undefined): string {
  return url === undefined ? 'the CA' : visibleText(url, 300);
}

function describeNetworkFailure(code: string | undefined, message: string, timeoutMs: number): string {
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  if (isCertificateError(code)) return `its TLS certificate is not trusted (${code})`;
  return describeSocketError(code) ?? message;
}

function hintFor(code: string | undefined): string | undefined {
  if (isCertificateError(code)) return 'if the CA uses a private root, pass --ca-bundle FILE with that root certificate';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return 'raise --request-timeout if the CA is just slow';
  return 'check the --server URL and this machine\'s network access to it';
}
