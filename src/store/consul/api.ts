/**
 * The client calls of the consul store: Consul's KV and session HTTP API through the shared HTTP client. The
 * ACL token travels only in the X-Consul-Token header. Answers other than the expected statuses, and every
 * failure to get one, become the store's OperationErrors.
 */
import type { StoreErrors } from '../errors.js';
import { HttpClient, LIST_ANSWER_BYTES, type HttpAnswer, type HttpRequest } from '../../net/http-client.js';
import { encodePathSegments } from '../http/path.js';
import { HttpTransportError } from '../../net/transport-error.js';
import { transportHint, type ServerNaming } from '../http/transport-hint.js';
import { CONSUL_VALUE_LIMIT_BYTES, type KvEntry } from './records.js';
import type { ConsulStoreConfig } from './url.js';

export type Query = Record<string, string | number | true>;

export class ConsulApi {
  readonly #config: ConsulStoreConfig;
  readonly #errors: StoreErrors;
  readonly #http: HttpClient;
  readonly #naming: ServerNaming;

  constructor(config: ConsulStoreConfig, errors: StoreErrors) {
    this.#config = config;
    this.#errors = errors;
    this.#http = new HttpClient({ protocol: config.protocol, trust: config, timeoutMs: config.timeoutMs, secrets: errors.secrets });
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    this.#naming = { server: 'Consul', address: `${config.protocol}://${host}:${config.port}`, plainScheme: 'consul' };
  }

  close(): void {
    this.#http.close();
  }

  async createSession(name: string, ttlS: number): Promise<string> {
    const body = Buffer.from(JSON.stringify({ Name: `acmectl lock ${name}`, TTL: `${ttlS}s`, LockDelay: '0s', Behavior: 'release' }));
    const response = await this.#request(`take lock ${name}`, 'PUT', '/v1/session/create', {}, body);
    const id = (this.#json(`take lock ${name}`, response) as { ID?: unknown } | null)?.ID;
    if (typeof id !== 'string' || id === '') throw this.#errors.failure(`take lock ${name}`, 'Consul answered a session create without a session ID');
    return id;
  }

  /** True when renewed; false when Consul no longer knows the session (404). */
  async renewSession(session: string): Promise<boolean> {
    const response = await this.#request('refresh a lock', 'PUT', `/v1/session/renew/${encodeURIComponent(session)}`, {}, undefined, [404], { idempotent: true });
    return response.status === 200;
  }

  /** Destroys a session; one that is already gone is fine (Consul answers that with 500 "Unknown session" under ACLs). */
  async destroySession(session: string): Promise<void> {
    const response = await this.#request('end a lock session', 'PUT', `/v1/session/destroy/${encodeURIComponent(session)}`, {}, undefined, [500], { idempotent: true });
    if (response.status === 500 && !/unknown session/i.test(response.body.toString('utf8'))) this.#checkStatus('end a lock session', response);
  }

  /** The entry at `key`, or null (404). */
  async readEntry(operation: string, key: string, query: Query = {}): Promise<KvEntry | null> {
    const response = await this.#request(operation, 'GET', kvPath(key), query, undefined, [404]);
    if (response.status === 404) return null;
    return this.#entries(operation, response).find((entry) => entry.key === key) ?? null;
  }

  /** Every entry whose key starts with `prefix`. */
  async readEntries(operation: string, prefix: string): Promise<KvEntry[]> {
    const response = await this.#request(operation, 'GET', kvPath(prefix), { recurse: true }, undefined, [404], { maxAnswerBytes: LIST_ANSWER_BYTES });
    return response.status === 404 ? [] : this.#entries(operation, response);
  }

  /** PUT of a raw value; true/false as Consul answers (false: the cas/acquire/release condition failed). */
  async putKv(operation: string, key: string, body: Buffer, query: Query = {}): Promise<boolean> {
    // Sent twice, a plain write or an acquire by the same session answers the same; a cas or a release would not.
    const idempotent = !('cas' in query) && !('release' in query);
    return this.#boolean(operation, await this.#request(operation, 'PUT', kvPath(key), query, body, [], { idempotent }));
  }

  /** A CAS delete; Consul answers true for a key already gone, so sending it twice changes nothing. */
  async deleteKv(operation: string, key: string, cas: number): Promise<boolean> {
    return this.#boolean(operation, await this.#request(operation, 'DELETE', kvPath(key), { cas }, undefined, [], { idempotent: true }));
  }

  #entries(operation: string, response: HttpAnswer): KvEntry[] {
    const parsed = this.#json(operation, response);
    if (!Array.isArray(parsed)) throw this.#errors.failure(operation, 'Consul answered something other than a list of entries');
    return parsed.map((item: unknown) => {
      const raw = item as { Key?: unknown; Value?: unknown; ModifyIndex?: unknown; Session?: unknown };
      if (typeof raw.Key !== 'string' || typeof raw.ModifyIndex !== 'number' || (raw.Value !== null && typeof raw.Value !== 'string')) {
        throw this.#errors.failure(operation, 'Consul answered an entry without Key, Value or ModifyIndex');
      }
      // Values are base64 in JSON; an empty value is null.
      return {
        key: raw.Key,
        value: raw.Value === null ? Buffer.alloc(0) : Buffer.from(raw.Value, 'base64'),
        modifyIndex: raw.ModifyIndex,
        session: typeof raw.Session === 'string' ? raw.Session : '',
      };
    });
  }

  #boolean(operation: string, response: HttpAnswer): boolean {
    const text = response.body.toString('utf8').trim();
    if (text === 'true') return true;
    if (text === 'false') return false;
    throw this.#errors.failure(operation, `Consul answered ${JSON.stringify(text.slice(0, 100))} instead of true or false`);
  }

  #json(operation: string, response: HttpAnswer): unknown {
    try {
      return JSON.parse(response.body.toString('utf8'));
    } catch {
      throw this.#errors.failure(operation, 'Consul answered something that is not JSON');
    }
  }

  /**
   * One HTTP request to Consul. Answers other than 200 (and the statuses in `allowed`) become OperationErrors;
   * so does every network failure, including no answer within the URL's timeout.
   */
  async #request(
    operation: string,
    method: 'GET' | 'PUT' | 'DELETE',
    path: string,
    query: Query,
    body?: Buffer,
    allowed: number[] = [],
    options: Pick<HttpRequest, 'idempotent' | 'maxAnswerBytes'> = {},
  ): Promise<HttpAnswer> {
    const config = this.#config;
    const search = queryString({ ...query, ...(config.datacenter !== undefined ? { dc: config.datacenter } : {}) });
    const headers: Record<string, string> = {};
    if (config.token !== undefined) headers['X-Consul-Token'] = config.token;
    if (body !== undefined) headers['Content-Type'] = 'application/octet-stream';
    let response: HttpAnswer;
    try {
      response = await this.#http.request({ host: config.host, port: config.port, method, path: `${path}${search}`, headers, ...(body !== undefined ? { body } : {}), ...options });
    } catch (error) {
      if (!(error instanceof HttpTransportError)) throw error;
      throw this.#errors.failure(operation, error.message, { cause: error, hint: transportHint(error, this.#naming) });
    }
    if (response.status !== 200 && !allowed.includes(response.status)) this.#checkStatus(operation, response);
    return response;
  }

  #checkStatus(operation: string, response: HttpAnswer): never {
    // Consul does not echo tokens; should it ever, failure() scrubs the message.
    const said = response.body.toString('utf8').trim().slice(0, 300);
    const answer = `Consul answered ${response.status}${said === '' ? '' : ` (${said})`}`;
    switch (response.status) {
      case 403:
        throw this.#errors.failure(operation, `${answer}: the ACL token is missing, unknown or lacks permission`, {
          hint:
            `give acmectl a token with ?token_file=FILE or ACMECTL_STORE_TOKEN whose policy has ` +
            `key_prefix "${this.#config.kvPath}" write and session_prefix "" write`,
        });
      case 413:
        throw this.#errors.failure(operation, `${answer}: the value is too large for this Consul (its kv_max_value_size is below ${CONSUL_VALUE_LIMIT_BYTES} bytes)`);
      default:
        throw this.#errors.failure(operation, answer);
    }
  }
}

/** `/v1/kv/<key>` with each segment percent-encoded. */
function kvPath(key: string): string {
  return `/v1/kv/${encodePathSegments(key)}`;
}

/** `?a=1&recurse`: Consul looks only at whether flags such as `recurse` are present. */
function queryString(query: Query): string {
  const parts = Object.entries(query).map(([name, value]) => (value === true ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`));
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}
