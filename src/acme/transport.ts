import { createRequire } from 'node:module';
import { Agent } from 'node:https';
import { abortedError, OperationError } from '../domain/errors.js';
import { describeSocketError, isCertificateError } from '../domain/network-failure.js';
import { visibleText } from '../domain/visible-text.js';
import { trustedCertificates } from '../pki/tls-trust.js';
import { parseRetryAfter } from './retry-after.js';

/** acme-client's module, loaded on first use so that commands which never contact a CA do not pay for it. */
export type AcmeClientModule = typeof import('acme-client');

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

// Retries of acme-client's interceptor: 5xx answers to unsigned requests (the directory, newNonce), a few quick
// ones. Rate limits (429), and a 503 that asks for more than LONGEST_RETRY_AFTER_S, are not slept through: the
// answer goes to acmectl, which reports it and remembers the CA's Retry-After (core/rate-limit-memory.ts). A
// signed request (POST) is never re-sent as it was: its nonce is spent, so the CA could only answer badNonce and
// the real error would be lost. CaClient.signed() signs it again with a fresh nonce instead.
export const SERVER_ERROR_RETRIES = 3;
const SERVER_ERROR_RETRY_DELAY_S = 1;
export const LONGEST_RETRY_AFTER_S = 10;
/**
 * The largest answer read from a CA (axios reads without a limit by default). ACME answers are small: an order
 * for 100 names or a certificate chain is a few KiB to a few tens of KiB. A CA, or something posing as one,
 * cannot make acmectl hold more than this in memory per request; decompressed bytes count.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;

let loaded: Promise<AcmeClientModule> | undefined;
/** The signal of the command this process runs (TransportOptions.signal). */
let commandSignal: AbortSignal | undefined;

/**
 * Extra trusted CA certificates per CA origin (`--ca-bundle`, or the bundle stored with a certificate or an
 * account). One renew run may talk to several CAs, each with its own private root: a root trusted for one CA
 * is never trusted for another. Origins without a bundle use Node's built-in roots.
 */
const bundlesByOrigin = new Map<string, Set<string>>();
const agentsByOrigin = new Map<string, Agent>();
const publicRootsAgent = new Agent({ keepAlive: true });

/** Trusts the PEM certificates in `caBundlePem` (besides Node's roots) for requests to the origin of `url`. */
export function trustForOrigin(url: string, caBundlePem: string): void {
  const origin = originOf(url);
  if (origin === undefined) return;
  const bundles = bundlesByOrigin.get(origin) ?? new Set<string>();
  if (bundles.has(caBundlePem)) return;
  bundles.add(caBundlePem);
  bundlesByOrigin.set(origin, bundles);
  agentsByOrigin.set(origin, new Agent({ keepAlive: true, ca: trustedCertificates(bundles) }));
}

function agentFor(url: string | undefined): Agent {
  const origin = url === undefined ? undefined : originOf(url);
  return (origin !== undefined ? agentsByOrigin.get(origin) : undefined) ?? publicRootsAgent;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * Loads acme-client and points its HTTP layer at our settings (one shared axios instance per process).
 *
 * Trust is chosen per request by the CA's origin (trustForOrigin), not for the shared instance.
 *
 * acme-client's response interceptor retries failures and then, for an error without a response (refused,
 * timed out, TLS), throws `TypeError: Cannot read properties of undefined`. Our adapter turns such errors
 * into CaUnreachableError *without* an axios config, which that interceptor passes through untouched.
 */
export async function loadAcmeClient(options: TransportOptions): Promise<AcmeClientModule> {
  const acme = await importAcmeClient();
  const instance = acme.axios;
  instance.defaults.httpsAgent = publicRootsAgent;
  instance.defaults.timeout = options.requestTimeoutMs;
  const settings = (instance.defaults as unknown as { acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
  settings.retryMaxAttempts = SERVER_ERROR_RETRIES;
  settings.retryDefaultDelay = SERVER_ERROR_RETRY_DELAY_S;
  // One command runs per process: its signal, once given, stays in force for every later request.
  if (options.signal) commandSignal = options.signal;
  instance.defaults.adapter = wrapAdapter(httpAdapterOf(), options.requestTimeoutMs) as unknown as typeof instance.defaults.adapter;
  instance.defaults.headers.common['User-Agent'] = `acmectl (${instance.defaults.headers.common['User-Agent'] as string})`;
  return acme;
}

/** The module itself, loaded once; for helpers that make no requests (CSR creation). */
export function importAcmeClient(): Promise<AcmeClientModule> {
  loaded ??= import('acme-client').then((module) => (module as unknown as { default?: AcmeClientModule }).default ?? module);
  return loaded;
}

type Adapter = (config: AdapterConfig) => Promise<AdapterResponse>;
interface AdapterConfig {
  url?: string;
  method?: string;
  retryAttempt?: number;
  httpsAgent?: Agent;
  maxContentLength?: number;
  signal?: AbortSignal;
}
interface AdapterResponse {
  status: number;
  headers: Record<string, unknown>;
}

function httpAdapterOf(): Adapter {
  // axios as acme-client resolves it, so both use the same copy.
  const requireFromAcme = createRequire(createRequire(import.meta.url).resolve('acme-client'));
  const axios = requireFromAcme('axios') as { getAdapter(name: string): Adapter };
  return axios.getAdapter('http');
}

/**
 * axios's own `timeout` is an idle timeout of the socket: an answer that trickles a byte a second, or never
 * ends, would never reach it. So each request gets a deadline for the whole exchange, and the command's signal,
 * through one AbortSignal; either ends the request at once, whatever phase it is in.
 */
function wrapAdapter(http: Adapter, timeoutMs: number): Adapter {
  return async (config) => {
    const command = commandSignal;
    // Thrown without an axios config (like every error below), so acme-client's interceptor passes it on instead of retrying.
    if (command?.aborted) throw abortedError(command, `before asking ${shownUrl(config.url)}`);
    config.httpsAgent = agentFor(config.url);
    config.maxContentLength = MAX_ANSWER_BYTES;
    const exchange = new AbortController();
    const deadline = setTimeout(() => exchange.abort(), timeoutMs);
    const stop = (): void => exchange.abort();
    command?.addEventListener('abort', stop, { once: true });
    // On a copy: axios checks the signal of its own config after the adapter and throws a CanceledError of its
    // own (which acme-client's interceptor would retry), instead of the error thrown here.
    const attempt: AdapterConfig = { ...config, signal: exchange.signal };
    try {
      return await http(attempt);
    } catch (error) {
      if (command?.aborted) throw abortedError(command, `while waiting for ${shownUrl(config.url)}`);
      if (exchange.signal.aborted) throw new CaUnreachableError(config.url, 'ETIMEDOUT', 'deadline', timeoutMs);
      // acme-client makes axios treat every status as an error, so answers (429 included) arrive here too.
      const failure = error as { response?: AdapterResponse; code?: string; message?: string };
      if (!failure.response && failure.code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(failure.message ?? '')) {
        throw new OperationError(`the CA's answer from ${shownUrl(config.url)} is larger than ${MAX_ANSWER_BYTES / 1024} KiB; not reading it`, {
          hint: 'no ACME answer is that large: check the --server URL',
        });
      }
      if (!failure.response) throw new CaUnreachableError(config.url, failure.code, failure.message ?? String(error), timeoutMs);
      // Seconds or an HTTP date: acme-client would sleep until either, however far off.
      const retryAfterMs = parseRetryAfter(failure.response.headers['retry-after']);
      const signedRequest = config.method?.toLowerCase() === 'post';
      if (signedRequest || failure.response.status === 429 || (retryAfterMs !== undefined && retryAfterMs > LONGEST_RETRY_AFTER_S * 1000)) {
        attempt.retryAttempt = Number.MAX_SAFE_INTEGER; // tells acme-client's interceptor (which sees the error's config) not to retry this one
      }
      throw error;
    } finally {
      clearTimeout(deadline);
      command?.removeEventListener('abort', stop);
    }
  };
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

/**
 * An unauthenticated GET to a CA (its directory, a renewalInfo URL) through the same HTTP layer as every other
 * request: timeouts, the answer cap, and trust for the CA's origin (`caBundlePem`, when given). Any status
 * comes back; the caller judges it.
 */
export async function unauthenticatedGet(url: string, options: TransportOptions & { caBundlePem?: string | null }): Promise<{ status: number; data: unknown; headers: Record<string, unknown> }> {
  const acme = await loadAcmeClient({ requestTimeoutMs: options.requestTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
  if (options.caBundlePem) trustForOrigin(url, options.caBundlePem);
  const answer = await acme.axios.request({ url, method: 'get', validateStatus: null });
  return { status: answer.status, data: answer.data as unknown, headers: answer.headers as Record<string, unknown> };
}
