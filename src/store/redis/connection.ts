import { Redis, type RedisOptions } from 'ioredis';
import { tlsConnectionOptions } from '../../pki/tls-trust.js';
import type { FailureDescription } from '../backend.js';
import { codeOf } from '../../net/error-text.js';
import type { StoreErrors } from '../errors.js';
import type { RedisStoreConfig } from './url.js';

/**
 * One ioredis client, set up to fail fast: no offline queue (a command sent while disconnected fails at once
 * instead of waiting for a reconnect), one retry, a timeout on every command, and no blind resending of a
 * command whose answer was lost (a resent put could apply twice). ioredis keeps reconnecting in the background,
 * so a long-running process recovers when Redis comes back.
 */
export class RedisConnection {
  readonly client: Redis;
  readonly #config: RedisStoreConfig;
  /** The last connection-level error ioredis reported, to explain a later "not connected". */
  #lastConnectionError: string | undefined;

  readonly #errors: StoreErrors;

  constructor(config: RedisStoreConfig, errors: StoreErrors) {
    this.#config = config;
    this.#errors = errors;
    this.client = new Redis(clientOptions(config));
    // ioredis emits 'error' on every failed (re)connect; unhandled, that would crash the process.
    this.client.on('error', (error: unknown) => {
      this.#lastConnectionError = this.#describe(error);
    });
    this.client.on('close', () => {
      this.#lastConnectionError ??= 'the connection was closed';
    });
    this.client.on('ready', () => {
      this.#lastConnectionError = undefined;
    });
  }

  async connect(): Promise<void> {
    const { client } = this;
    const deadline = this.#config.timeoutMs * 2;
    let timer: NodeJS.Timeout | undefined;
    // connectTimeout covers the TCP/TLS handshake and commandTimeout each setup command; this bounds the
    // whole sequence in case a server accepts the connection and then says nothing.
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${deadline} ms`)), deadline);
    });
    try {
      try {
        await Promise.race([client.connect(), timedOut]);
      } catch (error) {
        // ioredis rejects with a bare "Connection is closed." and tells why (WRONGPASS, ECONNREFUSED, ...) only
        // through its 'error' event.
        const closed = error instanceof Error && error.message.startsWith('Connection is closed');
        throw closed && this.#lastConnectionError !== undefined ? new Error(this.#lastConnectionError) : error;
      }
      // ioredis sends SELECT during its handshake but only reports a refusal as an 'error' event and carries on
      // in database 0; selecting again here turns "DB index is out of range" into a failure.
      if (this.#config.db !== 0) await Promise.race([client.select(this.#config.db), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Quits politely when connected (bounded by the command timeout), then stops reconnecting. Never throws. */
  async close(): Promise<void> {
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
      } catch {
        // The server went away meanwhile; disconnect() below is all that is left to do.
      }
    }
    this.disconnect();
  }

  disconnect(): void {
    this.client.disconnect();
  }

  /** What a failure says: in words a user can act on, with a cause that holds no command arguments. */
  describe(error: unknown): FailureDescription {
    const { host, port } = this.#config;
    const reason = this.#describe(error);
    // Our own cause, not ioredis's error: that carries the command's arguments (the AUTH password, or a
    // private key being stored), which a verbose error printer would show.
    const cause = new Error(reason);
    const code = codeOf(error);
    if (code !== undefined) Object.assign(cause, { code });
    return { detail: reason, cause, hint: hintFor(reason, `${host}:${port}`) };
  }

  /** A message for `error` in words a user can act on, with the password blanked should a server ever echo it. */
  #describe(error: unknown): string {
    let message = error instanceof Error ? error.message : String(error);
    if (/^Stream isn't writeable|^Connection is closed|^Reached the max retries per request limit/.test(message)) {
      message = `not connected to Redis${this.#lastConnectionError ? ` (${this.#lastConnectionError})` : ''}`;
    } else if (message === 'Command timed out') {
      message = `no answer from Redis within ${this.#config.timeoutMs} ms`;
    }
    return this.#errors.scrub(message);
  }
}

function clientOptions(config: RedisStoreConfig): RedisOptions {
  const options: RedisOptions = {
    host: config.host,
    port: config.port,
    db: config.db,
    lazyConnect: true,
    connectTimeout: config.timeoutMs,
    commandTimeout: config.timeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
    // RESP2 works with every Redis from 5 on; RESP3 would gain nothing here.
    protocol: 2,
    // CLIENT SETINFO is one more round trip per connect, and refused by servers before 7.2.
    disableClientInfo: true,
  };
  if (config.username !== undefined) options.username = config.username;
  if (config.password !== undefined) options.password = config.password;
  // --ca-bundle adds to the system's trusted roots; it does not replace them.
  if (config.tls) options.tls = tlsConnectionOptions(config);
  return options;
}

function hintFor(reason: string, address: string): string | undefined {
  if (/WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username/i.test(reason)) {
    return `check the user name and password (from the URL, $ACMECTL_STORE_PASSWORD or ?password_file=) and the user's ACL rules`;
  }
  if (/certificate|self[- ]signed|altnames|SSL|TLS/i.test(reason)) {
    return 'pass the CA that signed the Redis certificate with --ca-bundle, set ?servername= to the name it was issued for, or (only for testing) ?tls_verify=false';
  }
  if (/DB index is out of range/i.test(reason)) {
    return 'the database number in the URL path is higher than the server has (see "databases" in redis.conf)';
  }
  if (/not connected|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|ECONNRESET|no answer/i.test(reason)) {
    return `check that Redis is running and reachable at ${address}, and that redis:// or rediss:// matches whether it uses TLS`;
  }
  return undefined;
}

