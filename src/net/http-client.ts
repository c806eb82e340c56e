/**
 * The one HTTP client of acmectl: the CA's ACME endpoints (acme/transport.ts) and the stores that speak HTTP
 * (etcd's v3 JSON gateway, Consul, Vault), on Node's own
 * http/https. Every exchange has one deadline for all of it (connecting, sending, the headers and the whole
 * body, so a server that trickles bytes or never ends cannot hold acmectl past it) and a cap on the answer's
 * size (read into memory up to the cap, never beyond). Connections are kept alive; a request that meets a
 * kept-alive connection the server had already closed is sent once more on a fresh one when it may safely
 * run twice. Failures below HTTP become HttpTransportErrors whose text holds none of the store's secrets.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { abortedError } from '../domain/errors.js';
import { bundleOnlyConnectionOptions, tlsConnectionOptions, type TlsTrust } from '../pki/tls-trust.js';
import { codeOf, Secrets } from './error-text.js';
import { HttpTransportError, type TransportFailureKind } from './transport-error.js';

/** The largest answer read unless a request allows more: every single-entry answer of the stores fits. */
export const DEFAULT_MAX_ANSWER_BYTES = 1024 * 1024;
/**
 * The largest answer to a request that lists (keys, or entries with their values): tens of thousands of keys
 * or certificate records. A store beyond that is beyond what acmectl is built for, and says so.
 */
export const LIST_ANSWER_BYTES = 64 * 1024 * 1024;
/** Idle kept-alive sockets are closed after this, before servers' usual 5 s idle timeout can close them under us. */
const IDLE_SOCKET_MS = 4_000;
/** Verification failures that more trusted roots could cure (not a name mismatch, an expiry or a revocation). */
const UNTRUSTED_CHAIN_CODES = new Set(['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_UNTRUSTED']);
const isUntrustedChain = (code: string | undefined): boolean => code !== undefined && UNTRUSTED_CHAIN_CODES.has(code);
/** A kept-alive connection the server had closed fails with one of these before any answer arrives. */
const DEAD_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export interface HttpClientOptions {
  /** `https` speaks TLS, checking the server as `trust` says. */
  protocol: 'http' | 'https';
  trust: TlsTrust;
  /** The deadline of one whole exchange, in milliseconds. */
  timeoutMs: number;
  /** Scrubbed from the text of every error this client raises. */
  secrets?: Secrets;
}

export interface HttpRequest {
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  /** The path and query, already percent-encoded. */
  path: string;
  headers?: Readonly<Record<string, string>>;
  body?: string | Buffer;
  /**
   * The request may be sent a second time, after a kept-alive connection turned out to be dead (the server may
   * have received the first one). Default: true for GET and HEAD only.
   */
  idempotent?: boolean;
  /** The largest answer body accepted, in bytes; DEFAULT_MAX_ANSWER_BYTES unless given. */
  maxAnswerBytes?: number;
  /** The deadline of this exchange, in milliseconds, when it is not the client's. */
  timeoutMs?: number;
  /** Stops the exchange with an AbortedError once aborted. */
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export class HttpClient {
  readonly #options: HttpClientOptions;
  #agent: HttpAgent | HttpsAgent;
  /** Made when the bundle alone did not do (bundleOnlyConnectionOptions): Node's roots and the bundle. */
  #widerTrust: (() => HttpsAgent) | undefined;
  readonly #secrets: Secrets;

  constructor(options: HttpClientOptions) {
    this.#options = options;
    this.#secrets = options.secrets ?? new Secrets();
    const agent = (tls: ReturnType<typeof tlsConnectionOptions>): HttpsAgent => new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS, ...tls });
    const bundleOnly = options.protocol === 'https' ? bundleOnlyConnectionOptions(options.trust) : undefined;
    if (bundleOnly !== undefined) this.#widerTrust = () => agent(tlsConnectionOptions(options.trust));
    this.#agent =
      options.protocol === 'https' ? agent(bundleOnly ?? tlsConnectionOptions(options.trust)) : new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  }

  /** The answer, whatever its status; rejects with HttpTransportError (or AbortedError) when there is none. */
  async request(request: HttpRequest): Promise<HttpAnswer> {
    try {
      return await this.#exchange(request);
    } catch (error) {
      // The server's certificate does not chain to the bundle alone: nothing was sent (TLS failed first), so the
      // request goes again, and every later one, with Node's roots trusted too.
      if (this.#widerTrust !== undefined && error instanceof HttpTransportError && isUntrustedChain(error.code)) {
        const wider = this.#widerTrust();
        this.#widerTrust = undefined;
        this.#agent.destroy();
        this.#agent = wider;
        return this.request(request);
      }
      const idempotent = request.idempotent ?? (request.method === 'GET' || request.method === 'HEAD');
      if (!(error instanceof HttpTransportError) || error.kind !== 'dead-socket' || !idempotent) throw error;
      // The server closed its end of the kept-alive connections (it restarted, or timed them out): the other
      // idle ones are likely dead too, so the second try opens a fresh connection.
      this.#dropIdleSockets();
      return await this.#exchange(request);
    }
  }

  /** Closes every connection; requests still running fail. */
  close(): void {
    this.#agent.destroy();
  }

  #exchange(request: HttpRequest): Promise<HttpAnswer> {
    const timeoutMs = request.timeoutMs ?? this.#options.timeoutMs;
    const limit = request.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
    const { signal } = request;
    return new Promise<HttpAnswer>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortedError(signal, 'before the store request was sent'));
        return;
      }
      const headers: Record<string, string | number> = { ...request.headers };
      if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
      const send = this.#options.protocol === 'https' ? httpsRequest : httpRequest;
      const outgoing = send({ host: request.host, port: request.port, method: request.method, path: request.path, headers, agent: this.#agent });
      let connected = false;
      let answered = false;
      let settled = false;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        outcome();
      };
      const fail = (cause: unknown, kind?: TransportFailureKind): void =>
        finish(() => {
          outgoing.destroy();
          const reused = outgoing.reusedSocket;
          reject(new HttpTransportError(cause, { kind: kind ?? (reused && !answered ? deadSocketOr(cause) : 'network'), connected, secrets: this.#secrets }));
        });
      const onAbort = (): void =>
        finish(() => {
          outgoing.destroy();
          reject(abortedError(signal, 'during a store request'));
        });
      const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`), 'timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });

      outgoing.on('socket', (socket: Socket) => {
        if (!socket.connecting) connected = true;
        else socket.once('connect', () => (connected = true));
      });
      outgoing.on('error', (error) => fail(error));
      outgoing.on('response', (response: IncomingMessage) => {
        answered = true;
        const tooLarge = (): void => fail(new Error(`the answer is larger than ${limit} bytes`), 'too-large');
        if (Number(response.headers['content-length'] ?? 0) > limit) {
          tooLarge();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > limit) tooLarge();
          else chunks.push(chunk);
        });
        response.on('error', (error) => fail(error));
        response.on('close', () => {
          if (!response.complete) fail(new Error('the connection closed in the middle of the answer'));
        });
        response.on('end', () => finish(() => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks, size) })));
      });
      outgoing.end(request.body);
    });
  }

  #dropIdleSockets(): void {
    for (const sockets of Object.values(this.#agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  }
}

function deadSocketOr(cause: unknown): TransportFailureKind {
  return DEAD_SOCKET_CODES.has(codeOf(cause) ?? '') ? 'dead-socket' : 'network';
}
