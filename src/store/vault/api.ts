/**
 * The client calls of the Vault store: HTTP to one Vault server through the shared HTTP client, with
 * authentication (the token, or a login whose token is renewed by logging in again on a 403), the namespace
 * header, and errors that name the store by its redacted URL and never contain a secret.
 */
import { readFile } from 'node:fs/promises';
import type { OperationError } from '../../domain/errors.js';
import { codeOf } from '../../net/error-text.js';
import type { StoreErrors } from '../errors.js';
import { HttpClient, type HttpAnswer } from '../../net/http-client.js';
import { encodePathSegments } from '../http/path.js';
import { HttpTransportError } from '../../net/transport-error.js';
import { transportHint, type ServerNaming } from '../http/transport-hint.js';
import type { VaultStoreConfig } from './url.js';

export interface VaultAnswer {
  status: number;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: unknown;
}

/**
 * HTTP to one Vault server: authentication (the token, or a login whose token is renewed by logging in again
 * on a 403), the namespace header, timeouts, TLS settings, and errors that name the store by its redacted URL
 * and never contain a secret.
 */
export class VaultApi {
  readonly #config: VaultStoreConfig;
  readonly #errors: StoreErrors;
  readonly #http: HttpClient;
  readonly #naming: ServerNaming;
  #token: string | undefined;
  #loggingIn: Promise<void> | undefined;

  /** `errors` learns every secret this connection comes to know (tokens, the secret ID, the JWT). */
  constructor(config: VaultStoreConfig, errors: StoreErrors) {
    this.#config = config;
    this.#errors = errors;
    const { auth } = config;
    if (auth.method === 'token') {
      this.#token = auth.token.reveal();
      errors.secrets.add(this.#token);
    } else if (auth.method === 'approle') {
      errors.secrets.add(auth.secretId.reveal());
    }
    const protocol = config.protocol === 'https:' ? 'https' : 'http';
    this.#http = new HttpClient({ protocol, trust: config, timeoutMs: config.timeoutMs, secrets: errors.secrets });
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    this.#naming = { server: 'Vault', address: `${config.protocol}//${host}:${config.port}`, plainScheme: 'vault' };
  }

  /** Logs in for auth=approle / auth=kubernetes (a no-op for auth=token). */
  async logIn(): Promise<void> {
    const { auth } = this.#config;
    if (auth.method === 'token') return;
    const operation = `log in with ${auth.method} at auth/${auth.mount}`;
    let payload: string;
    if (auth.method === 'approle') {
      payload = JSON.stringify({ role_id: auth.roleId, secret_id: auth.secretId.reveal() });
    } else {
      // Read at every login, not once: Kubernetes rotates projected service account tokens.
      const jwt = await this.#readJwt(auth.jwtFile, operation);
      this.#errors.secrets.add(jwt);
      payload = JSON.stringify({ role: auth.role, jwt });
    }
    const answer = await this.#send(operation, 'POST', `auth/${encodePathSegments(auth.mount)}/login`, payload, undefined);
    const token = (answer.body as { auth?: { client_token?: unknown } } | undefined)?.auth?.client_token;
    if (answer.status === 200 && typeof token === 'string' && token !== '') {
      this.#errors.secrets.add(token);
      this.#token = token;
      return;
    }
    if (answer.status === 400 || answer.status === 403) {
      const why = vaultErrors(answer.body).join('; ') || `HTTP ${answer.status}`;
      throw this.failure(operation, `Vault refused the login: ${why}`, {
        hint:
          auth.method === 'approle'
            ? 'check role_id and the secret ID (?secret_id=, ACMECTL_STORE_SECRET_ID or ?secret_id_file=); secret IDs can expire or run out of uses'
            : `check ?role= and that the role is bound to this pod's service account and namespace (the JWT comes from ${auth.jwtFile})`,
      });
    }
    throw this.unexpected(operation, answer);
  }

  /**
   * One request with the current token. Answers 2xx, 400 and 404 are returned for the caller to interpret;
   * anything else becomes an OperationError. A 403 after a login is retried once after logging in again (the
   * login's token may have expired); a 403 that persists is "permission denied by Vault".
   */
  async call(operation: string, method: 'GET' | 'POST', path: string, payload?: string, maxAnswerBytes?: number): Promise<VaultAnswer> {
    const token = this.#token;
    let answer = await this.#send(operation, method, path, payload, token, maxAnswerBytes);
    if (answer.status === 403 && this.#config.auth.method !== 'token') {
      await this.#logInAgain(token);
      answer = await this.#send(operation, method, path, payload, this.#token, maxAnswerBytes);
    }
    if ((answer.status >= 200 && answer.status < 300) || answer.status === 400 || answer.status === 404) return answer;
    throw this.unexpected(operation, answer);
  }

  /** An OperationError "Vault store <redacted URL>: could not <operation>: <reason>", scrubbed of secrets. */
  failure(operation: string, reason: string, options: { hint?: string; cause?: unknown } = {}): OperationError {
    return this.#errors.failure(operation, reason, options);
  }

  /** The error for an answer the caller did not expect, with Vault's own error text and a hint where we have one. */
  unexpected(operation: string, answer: VaultAnswer): OperationError {
    const errors = vaultErrors(answer.body);
    const detail = errors.length > 0 ? `: ${errors.join('; ')}` : '';
    const { mount, pathPrefix, namespace } = this.#config;
    switch (answer.status) {
      case 403:
        return this.failure(operation, `permission denied by Vault (HTTP 403)${detail}`, {
          hint:
            `check that the token is valid (not expired or revoked)${namespace !== undefined ? ` in namespace ${namespace}` : ''} ` +
            `and that its policy allows create, read and update on ${mount}/data/${pathPrefix}* and list on ${mount}/metadata/${pathPrefix}*`,
        });
      case 404:
        return this.failure(operation, `Vault answered HTTP 404${detail}`, {
          hint: `check that a KV version 2 secrets engine is mounted at ${mount}/`,
        });
      case 503:
        return this.failure(operation, `Vault is unavailable (HTTP 503)${detail}`, {
          hint: 'Vault may be sealed or without an active node: unseal it or try again',
        });
      default:
        if (errors.some((error) => /HTTP request to an HTTPS server/i.test(error))) {
          return this.failure(operation, `Vault answered HTTP ${answer.status}${detail}`, { hint: 'write vault+https:// to talk to Vault over TLS' });
        }
        return this.failure(operation, `Vault answered HTTP ${answer.status}${detail}`, {
          hint: `check that ${mount}/ is a KV version 2 secrets engine`,
        });
    }
  }

  /** Revokes the token acmectl logged in for (best effort; a user's own token is left alone), closes sockets. */
  async close(): Promise<void> {
    try {
      if (this.#config.auth.method !== 'token' && this.#token !== undefined) {
        await this.#send('revoke the login token', 'POST', 'auth/token/revoke-self', '{}', this.#token);
      }
    } catch {
      // The token expires by itself; an unreachable Vault must not turn close() into a failure.
    } finally {
      this.#token = undefined;
      this.#http.close();
    }
  }

  async #logInAgain(staleToken: string | undefined): Promise<void> {
    if (this.#token !== staleToken) return; // a concurrent request already logged in again
    this.#loggingIn ??= this.logIn().finally(() => {
      this.#loggingIn = undefined;
    });
    await this.#loggingIn;
  }

  async #readJwt(file: string, operation: string): Promise<string> {
    let jwt: string;
    try {
      jwt = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      throw this.failure(operation, `cannot read the service account token ${file} (${codeOf(error) ?? 'error'})`, {
        hint: 'run acmectl in a pod with a service account token mounted, or name the JWT file with ?jwt_file=',
      });
    }
    if (jwt === '') throw this.failure(operation, `the service account token file ${file} is empty`);
    return jwt;
  }

  /** One HTTP exchange; a GET that meets a dead kept-alive connection is sent again by the client. */
  async #send(
    operation: string,
    method: 'GET' | 'POST',
    path: string,
    payload: string | undefined,
    token: string | undefined,
    maxAnswerBytes?: number,
  ): Promise<VaultAnswer> {
    const { host, port, namespace } = this.#config;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined) headers['x-vault-token'] = token;
    if (namespace !== undefined) headers['x-vault-namespace'] = namespace;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    let answer: HttpAnswer;
    try {
      answer = await this.#http.request({
        host,
        port,
        method,
        path: `/v1/${path}`,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
        ...(maxAnswerBytes !== undefined ? { maxAnswerBytes } : {}),
      });
    } catch (error) {
      if (!(error instanceof HttpTransportError)) throw error;
      const reason = error.kind === 'timeout' ? `Vault did not answer within ${this.#config.timeoutMs} ms` : error.message;
      throw this.failure(operation, reason, { hint: transportHint(error, this.#naming), cause: error });
    }
    return { status: answer.status, body: parseJson(answer.body.toString('utf8')) };
  }
}

/** Vault's `errors` array, tidied: "1 error occurred:\n\t* permission denied\n\n" → "permission denied". */
export function vaultErrors(body: unknown): string[] {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors
    .filter((error): error is string => typeof error === 'string')
    .flatMap((error) => {
      const listed = /^\d+ errors? occurred:/.exec(error);
      return listed === null ? [error] : error.slice(listed[0].length).split(/\n\s*\*\s*/);
    })
    .map((error) => error.replace(/\s+/g, ' ').trim())
    .filter((error) => error !== '');
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
