/**
 * The client calls of the etcd store: JSON POSTs to the cluster's v3 gateway through the shared HTTP client,
 * one endpoint at a time, logging in when a user is configured.
 */
import { isCertificateError } from '../../domain/network-failure.js';
import type { Secrets } from '../../net/error-text.js';
import { HttpClient, type HttpAnswer } from '../../net/http-client.js';
import { HttpTransportError } from '../../net/transport-error.js';
import { transportHint } from '../http/transport-hint.js';
import {
  EtcdDataError,
  type PutRequest,
  type RangeRequest,
  type RangeResponse,
  type ResponseHeader,
  type TxnRequest,
  type TxnResponse,
} from './protocol.js';
import type { EtcdStoreConfig } from './url.js';

/**
 * The largest answer read for one request: a range of one entry holds a value of up to ETCD_MAX_VALUE_BYTES,
 * base64-encoded (4/3 of it) in JSON.
 */
export const ENTRY_ANSWER_BYTES = 4 * 1024 * 1024;

/** etcd answered with an error (its JSON carries the gRPC status code and message). */
export class EtcdServerError extends Error {
  readonly grpcCode: number | undefined;
  readonly httpStatus: number;
  constructor(message: string, grpcCode: number | undefined, httpStatus: number) {
    super(message);
    this.name = 'EtcdServerError';
    this.grpcCode = grpcCode;
    this.httpStatus = httpStatus;
  }
}


/** One endpoint gave no answer: "http://127.0.0.1:2379: connection refused (...)". */
export class EndpointFailure extends Error {
  override name = 'EndpointFailure';
  constructor(
    readonly endpoint: string,
    override readonly cause: HttpTransportError,
  ) {
    super(`${endpoint}: ${cause.message}`, { cause });
  }
}

/** No endpoint answered; `failures` has one line per endpoint tried. */
export class EtcdUnreachableError extends Error {
  override name = 'EtcdUnreachableError';
  readonly failures: EndpointFailure[];
  constructor(failures: EndpointFailure[]) {
    super(failures.map((failure) => failure.message).join('; '));
    this.failures = failures;
  }
}

const GRPC_UNAVAILABLE = 14;
const GRPC_UNAUTHENTICATED = 16;

/**
 * POSTs JSON to the cluster's gateway, one endpoint at a time, and logs in when a user is configured.
 * Reads (and other requests that may safely run twice) move on to the next endpoint on any failure; writes
 * only when the connection never came up. The endpoint that answered last is tried first next time.
 */
export class EtcdGateway {
  readonly #config: EtcdStoreConfig;
  readonly #secrets: Secrets;
  readonly #http: HttpClient;
  readonly #endpoints: Endpoint[];
  #preferred = 0;
  #token: string | undefined;
  #login: Promise<void> | undefined;

  constructor(config: EtcdStoreConfig, secrets: Secrets) {
    this.#config = config;
    this.#secrets = secrets;
    this.#endpoints = config.endpoints.map(endpointOf);
    const protocol = config.endpoints[0]?.startsWith('https:') === true ? 'https' : 'http';
    this.#http = new HttpClient({ protocol, trust: config, timeoutMs: config.timeoutMs, secrets });
  }

  /** A range read; `maxAnswerBytes` for ranges that may return many keys (one value fits the default). */
  range(request: RangeRequest, maxAnswerBytes = ENTRY_ANSWER_BYTES): Promise<RangeResponse> {
    return this.#call('/v3/kv/range', request, true, maxAnswerBytes);
  }

  /** A plain put: running it twice leaves the same value, so it may be retried elsewhere. */
  put(request: PutRequest): Promise<{ header?: ResponseHeader }> {
    return this.#call('/v3/kv/put', request, true);
  }

  txn(request: TxnRequest, maxAnswerBytes = ENTRY_ANSWER_BYTES): Promise<TxnResponse> {
    const readOnly = (request.success ?? []).every((op) => 'request_range' in op) && request.failure === undefined;
    return this.#call('/v3/kv/txn', request, readOnly, maxAnswerBytes);
  }

  /**
   * A new etcd lease of at least ttlMs: whole seconds, rounded up (etcd raises it further to its minimum,
   * 2 s by default, which only delays the clean-up).
   */
  async grantLease(ttlMs: number): Promise<string> {
    const response = await this.#call<{ ID?: string }>('/v3/lease/grant', { TTL: Math.ceil(ttlMs / 1000), ID: 0 }, true);
    if (response.ID === undefined || response.ID === '0') throw new EtcdDataError('etcd granted a lease without an ID');
    return response.ID;
  }

  /** Restarts the lease's countdown; false when it no longer exists (expired or revoked). */
  async keepLeaseAlive(leaseId: string): Promise<boolean> {
    // A gRPC stream on the server; through the gateway one request gives one {"result": ...} line.
    const response = await this.#call<{ result?: { TTL?: string } }>('/v3/lease/keepalive', { ID: leaseId }, true);
    return Number(response.result?.TTL ?? '0') > 0;
  }

  /** Revokes the lease (deleting the keys still attached to it); failures are ignored: it expires anyway. */
  async revokeLeaseQuietly(leaseId: string): Promise<void> {
    try {
      await this.#call('/v3/lease/revoke', { ID: leaseId }, true);
    } catch {
      // Not found (expired already) or unreachable: either way the lease ends by itself within its TTL.
    }
  }

  /** Logs in when a user is configured and no token is held yet. */
  async login(): Promise<void> {
    if (this.#config.credentials === undefined || this.#token !== undefined) return;
    await this.#relogin(undefined);
  }

  close(): void {
    this.#http.close();
  }

  /** One login at a time; a caller whose token was refused triggers a new one only if nobody did meanwhile. */
  #relogin(refused: string | undefined): Promise<void> {
    if (this.#token !== refused) return Promise.resolve();
    this.#login ??= this.#authenticate().finally(() => {
      this.#login = undefined;
    });
    return this.#login;
  }

  async #authenticate(): Promise<void> {
    const credentials = this.#config.credentials!;
    try {
      const response = await this.#send<{ token?: string }>(
        '/v3/auth/authenticate',
        { name: credentials.username, password: credentials.password },
        true,
        undefined,
        ENTRY_ANSWER_BYTES,
      );
      if (response.token === undefined) throw new EtcdDataError('etcd answered the login without a token');
      this.#secrets.add(response.token);
      this.#token = response.token;
    } catch (error) {
      // A cluster without auth needs no token; the configured user is then simply not used.
      if (error instanceof EtcdServerError && /authentication is not enabled/.test(error.message)) {
        this.#token = '';
        return;
      }
      throw error;
    }
  }

  async #call<T>(path: string, body: object, idempotent: boolean, maxAnswerBytes = ENTRY_ANSWER_BYTES): Promise<T> {
    await this.login();
    const token = this.#token;
    try {
      return await this.#send<T>(path, body, idempotent, token, maxAnswerBytes);
    } catch (error) {
      // Simple tokens expire after --auth-token-ttl (5 min) idle, and a restarted member forgets them. The
      // request was refused before it was applied, so sending it again after logging in is safe.
      if (this.#config.credentials !== undefined && error instanceof EtcdServerError && error.grpcCode === GRPC_UNAUTHENTICATED) {
        await this.#relogin(token);
        return this.#send<T>(path, body, idempotent, this.#token, maxAnswerBytes);
      }
      throw error;
    }
  }

  async #send<T>(path: string, body: object, idempotent: boolean, token: string | undefined, maxAnswerBytes: number): Promise<T> {
    const json = JSON.stringify(body);
    const endpoints = this.#endpoints;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = token;
    const failures: EndpointFailure[] = [];
    for (let attempt = 0; attempt < endpoints.length; attempt++) {
      const index = (this.#preferred + attempt) % endpoints.length;
      const { url, host, port } = endpoints[index]!;
      let answer: HttpAnswer;
      try {
        answer = await this.#http.request({ host, port, method: 'POST', path, headers, body: json, idempotent, maxAnswerBytes });
      } catch (error) {
        if (!(error instanceof HttpTransportError)) throw error;
        const failure = new EndpointFailure(url, error);
        failures.push(failure);
        if (idempotent || !error.sent) continue;
        throw failure;
      }
      const parsed = parseAnswer(answer, path);
      if (parsed instanceof EtcdServerError) {
        // No leader on that member (or it is shutting down): another member may have one.
        if (parsed.grpcCode === GRPC_UNAVAILABLE && idempotent && attempt + 1 < endpoints.length) continue;
        throw parsed;
      }
      this.#preferred = index;
      return parsed as T;
    }
    throw new EtcdUnreachableError(failures);
  }
}

interface Endpoint {
  /** As the URL gave it: `http://127.0.0.1:2379`. */
  url: string;
  host: string;
  port: number;
}

function endpointOf(url: string): Endpoint {
  const parsed = new URL(url);
  return { url, host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port) };
}

function parseAnswer(answer: HttpAnswer, path: string): unknown {
  const text = answer.body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (answer.status === 200 && typeof parsed === 'object' && parsed !== null) return parsed;
  const error = parsed as { message?: unknown; error?: unknown; code?: unknown } | undefined;
  const message = typeof error?.message === 'string' ? error.message : typeof error?.error === 'string' ? error.error : undefined;
  if (message !== undefined) {
    return new EtcdServerError(message, typeof error?.code === 'number' ? error.code : undefined, answer.status);
  }
  const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, 120);
  return new EtcdServerError(
    `unexpected answer from ${path} (HTTP ${answer.status}${excerpt === '' ? '' : `: ${excerpt}`}); is this etcd 3.4 or later?`,
    undefined,
    answer.status,
  );
}

/** What a user can do about a failure of the gateway; undefined when there is nothing useful to say. */
export function etcdHint(error: unknown, config: EtcdStoreConfig): string | undefined {
  if (error instanceof EtcdUnreachableError) {
    // The most telling failure: an untrusted certificate, then a timeout, then whatever came last.
    const causes = error.failures.map((failure) => failure.cause);
    const telling = causes.find((cause) => isCertificateError(cause.code)) ?? causes.find((cause) => cause.kind === 'timeout') ?? causes.at(-1);
    const address = config.endpoints.join(', ');
    return telling === undefined ? undefined : transportHint(telling, { server: 'etcd', address, plainScheme: 'etcd' });
  }
  if (error instanceof EndpointFailure) {
    return 'the request may or may not have been applied; check the store and try again';
  }
  if (error instanceof EtcdServerError) {
    if (/request is too large/.test(error.message)) {
      return 'the etcd server refuses requests this large (its --max-request-bytes); keep values smaller or raise that limit';
    }
    if (/user name is empty/.test(error.message)) {
      return `the etcd cluster has authentication enabled: name a user (etcd://USER@host:2379/) and give the password in ACMECTL_STORE_PASSWORD or ?password_file=`;
    }
    if (/authentication failed/.test(error.message)) {
      return 'check the etcd user and password (URL, ACMECTL_STORE_PASSWORD or ?password_file=)';
    }
    if (/permission denied/.test(error.message)) {
      return `the etcd user needs read and write permission on the keys under "${config.prefix}"`;
    }
  }
  return undefined;
}