/**
 * The Redis store (ioredis), shared by every host that points at the same server, database and prefix.
 *
 * Layout under the URL's prefix P (default `acmectl/`):
 * - `P kv/<key>`      a hash {value, rev, expiresAt?}; entries with a TTL also carry a Redis expiry (PEXPIREAT),
 *                     so Redis removes them itself and never returns them once the time has passed.
 * - `P revision`      one INCR counter for every revision this prefix ever hands out, so a revision is never
 *                     reused, not even by a key deleted and written again.
 * - `P lock/<name>`   `owner:fence` with a PX expiry: the current lease, if any.
 * - `P fence/<name>`  the last fencing token for the lock; never deleted, so tokens keep growing.
 *
 * Concurrency: every conditional step (ifRev, ifAbsent, delete-ifRev, lock acquire/renew/release) is one Lua
 * script, which Redis runs atomically; nothing is read in the client and then written. Expiry is decided by the
 * server's clock (TIME inside the script), the same clock Redis expires keys by, so hosts with skewed clocks
 * still agree on what is live.
 *
 * Requires Redis 5 or later (scripts that call TIME). FLUSHDB or deleting `P revision`/`P fence/*` by hand
 * resets the counters, after which revisions and fences could repeat: do not.
 */
import { createHash } from 'node:crypto';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';
import { AcmectlError, OperationError } from '../domain/errors.js';
import { LeaseKeeper, type LeasePrimitives } from './lease.js';
import { compareUtf8 } from '../domain/compare-utf8.js';
import type { RedisStoreConfig } from './redis-url.js';
import type { Entry, Lease, LockOptions, PutOptions, PutResult, Store } from './store.js';
import { checkPutOptions } from './put-options.js';

/** A Lua script run with EVALSHA, falling back to EVAL when the server has not cached it (new or restarted). */
class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

// Numbers are formatted with %d: Redis would otherwise turn a large Lua number into "1.7e+12".

/** KEYS: entry, revision counter. ARGV: value, condition ('' | 'absent' | 'rev'), expected rev, ttl ms or ''. */
const PUT = new LuaScript(`
if ARGV[2] == 'absent' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return false end
elseif ARGV[2] == 'rev' then
  if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[3] then return false end
end
local rev = string.format('%d', redis.call('INCR', KEYS[2]))
redis.call('DEL', KEYS[1])
if ARGV[4] == '' then
  redis.call('HSET', KEYS[1], 'value', ARGV[1], 'rev', rev)
  return rev
end
local now = redis.call('TIME')
local expiresAt = string.format('%d', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[4]))
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'rev', rev, 'expiresAt', expiresAt)
redis.call('PEXPIREAT', KEYS[1], expiresAt)
return rev
`);

/** KEYS: entry. ARGV: expected rev. */
const DELETE_IF_REV = new LuaScript(`
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`);

/**
 * KEYS: lock, fence counter. ARGV: owner, ttl ms. The atomic form of `SET lock owner:fence NX PX ttl`: the
 * fence is drawn only by the process that gets the lock, in the same step.
 */
const ACQUIRE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local fence = string.format('%d', redis.call('INCR', KEYS[2]))
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'NX', 'PX', ARGV[2])
return fence
`);

/** KEYS: lock. ARGV: owner:fence, ttl ms. Compare-then-PEXPIRE: never extends another holder's lease. */
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`);

/** KEYS: lock. ARGV: owner:fence. Compare-then-DEL: never releases another holder's lease. */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`);

/** Keys fetched per SCAN round trip while listing. */
const SCAN_BATCH = 1000;

/**
 * Opens the Redis store the config names: connects, authenticates and selects the database before resolving.
 * Throws OperationError (exit 1) naming the redacted URL when the server cannot be reached, refuses the
 * credentials, or has no such database. The caller owns the store and must close() it.
 */
export async function openRedisStore(config: RedisStoreConfig): Promise<Store> {
  const connection = new RedisConnection(config);
  try {
    await connection.connect();
  } catch (error) {
    connection.disconnect();
    throw connection.failure('connect', error);
  }
  return new RedisStore(config, connection);
}

/**
 * One ioredis client, set up to fail fast: no offline queue (a command sent while disconnected fails at once
 * instead of waiting for a reconnect), one retry, a timeout on every command, and no blind resending of a
 * command whose answer was lost (a resent put could apply twice). ioredis keeps reconnecting in the background,
 * so a long-running process recovers when Redis comes back.
 */
class RedisConnection {
  readonly client: Redis;
  readonly #config: RedisStoreConfig;
  /** The last connection-level error ioredis reported, to explain a later "not connected". */
  #lastConnectionError: string | undefined;

  constructor(config: RedisStoreConfig) {
    this.#config = config;
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

  /** An OperationError naming the store by its redacted URL, with a cause that holds no command arguments. */
  failure(operation: string, error: unknown): OperationError {
    const { display, host, port } = this.#config;
    const reason = this.#describe(error);
    // Our own cause, not ioredis's error: that carries the command's arguments (the AUTH password, or a
    // private key being stored), which a verbose error printer would show.
    const cause = new Error(reason);
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string') Object.assign(cause, { code });
    return new OperationError(`Redis store ${display}: could not ${operation}: ${reason}`, {
      cause,
      hint: hintFor(reason, `${host}:${port}`),
    });
  }

  /** A message for `error` in words a user can act on, with the password blanked should a server ever echo it. */
  #describe(error: unknown): string {
    let message = error instanceof Error ? error.message : String(error);
    if (/^Stream isn't writeable|^Connection is closed|^Reached the max retries per request limit/.test(message)) {
      message = `not connected to Redis${this.#lastConnectionError ? ` (${this.#lastConnectionError})` : ''}`;
    } else if (message === 'Command timed out') {
      message = `no answer from Redis within ${this.#config.timeoutMs} ms`;
    }
    const { password } = this.#config;
    return password ? message.split(password).join('***') : message;
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
  if (config.tls) options.tls = tlsOptions(config);
  return options;
}

function tlsOptions(config: RedisStoreConfig): ConnectionOptions {
  const tls: ConnectionOptions = { rejectUnauthorized: config.tlsVerify };
  if (config.servername !== undefined) tls.servername = config.servername;
  // --ca-bundle adds to the system's trusted roots; it does not replace them.
  if (config.caBundlePem !== undefined) tls.ca = [...rootCertificates, config.caBundlePem];
  return tls;
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

/**
 * A Store in Redis. `kind` 'redis', shared: every process on every host that opens the same server, database
 * and prefix sees the same entries and locks.
 */
class RedisStore implements Store {
  readonly kind = 'redis';
  readonly shared = true;

  readonly #connection: RedisConnection;
  readonly #client: Redis;
  readonly #leases: LeaseKeeper;
  readonly #prefix: string;
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(config: RedisStoreConfig, connection: RedisConnection) {
    this.#connection = connection;
    this.#client = connection.client;
    this.#prefix = config.prefix;
    const primitives: LeasePrimitives = {
      acquire: (name, owner, ttlMs) =>
        this.#run('take a lock', async () => {
          const fence = await this.#eval(ACQUIRE, [this.#lockKey(name), this.#fenceKey(name)], [owner, String(ttlMs)]);
          return fence === null ? null : BigInt(expectString(fence, 'a fencing token'));
        }),
      renew: (name, owner, fence, ttlMs) =>
        this.#run('refresh a lock', async () =>
          (await this.#eval(RENEW, [this.#lockKey(name)], [`${owner}:${fence}`, String(ttlMs)])) === 1,
        ),
      release: (name, owner, fence) =>
        this.#run('release a lock', async () =>
          (await this.#eval(RELEASE, [this.#lockKey(name)], [`${owner}:${fence}`])) === 1,
        ),
    };
    this.#leases = new LeaseKeeper(primitives);
  }

  async get(key: string): Promise<Entry | null> {
    return this.#run(`read ${key}`, async () => {
      // Redis checks a key's expiry on every access, so a TTL entry past its time reads as missing here even
      // before the server has deleted it.
      const [value, rev, expiresAt] = await this.#client.hmgetBuffer(this.#entryKey(key), 'value', 'rev', 'expiresAt');
      if (value == null || rev == null) return null;
      const entry: Entry = { value: new Uint8Array(value), rev: rev.toString('utf8') };
      if (expiresAt != null) entry.expiresAt = Number(expiresAt.toString('utf8'));
      return entry;
    });
  }

  async put(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const ttlMs = checkPutOptions(options);
    const condition = options.ifAbsent === true ? 'absent' : options.ifRev !== undefined ? 'rev' : '';
    return this.#run(`write ${key}`, async () => {
      const rev = await this.#eval(
        PUT,
        [this.#entryKey(key), this.#revisionKey()],
        [Buffer.from(value.buffer, value.byteOffset, value.byteLength), condition, options.ifRev ?? '', ttlMs === undefined ? '' : String(ttlMs)],
      );
      return rev === null ? { ok: false } : { ok: true, rev: expectString(rev, 'a revision') };
    });
  }

  async delete(key: string, options: { ifRev?: string } = {}): Promise<boolean> {
    return this.#run(`delete ${key}`, async () => {
      // A plain DEL is atomic on its own, and Redis does not count a key whose expiry has passed.
      if (options.ifRev === undefined) return (await this.#client.del(this.#entryKey(key))) > 0;
      return (await this.#eval(DELETE_IF_REV, [this.#entryKey(key)], [options.ifRev])) === 1;
    });
  }

  /**
   * Live keys starting with `prefix`, compared literally, in UTF-8 byte order, collected in full (SCAN may
   * return a key twice) before the first is yielded. SCAN's MATCH is a glob, so `*?[]\` in the prefix are
   * escaped; the startsWith check keeps the result literal whatever the pattern does. SCAN skips keys whose
   * expiry has passed even when Redis has not deleted them yet.
   */
  async *list(prefix: string): AsyncIterable<string> {
    const keys = await this.#run(`list ${prefix}`, async () => {
      const base = this.#entryKey('');
      const wanted = base + prefix;
      const pattern = `${escapeGlob(wanted)}*`;
      const found = new Set<string>();
      let cursor = '0';
      do {
        const [next, batch] = await this.#client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH);
        for (const redisKey of batch) if (redisKey.startsWith(wanted)) found.add(redisKey.slice(base.length));
        cursor = next;
      } while (cursor !== '0');
      return [...found].sort(compareUtf8);
    });
    yield* keys;
  }

  async lock(name: string, options: LockOptions): Promise<Lease | null> {
    this.#checkOpen();
    return this.#leases.lock(name, options);
  }

  /** Releases held leases, then quits the connection. Idempotent; never hangs on a dead server. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#leases.close();
      this.#closed = true;
      await this.#connection.close();
    })();
    return this.#closing;
  }

  #entryKey(key: string): string {
    return `${this.#prefix}kv/${key}`;
  }

  #revisionKey(): string {
    return `${this.#prefix}revision`;
  }

  #lockKey(name: string): string {
    return `${this.#prefix}lock/${name}`;
  }

  #fenceKey(name: string): string {
    return `${this.#prefix}fence/${name}`;
  }

  async #eval(script: LuaScript, keys: string[], args: Array<string | Buffer>): Promise<unknown> {
    try {
      return await this.#client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await this.#client.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  /** Runs one store operation, turning Redis failures into an OperationError that names the store. */
  async #run<T>(operation: string, step: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    try {
      return await step();
    } catch (error) {
      if (error instanceof AcmectlError) throw error;
      throw this.#connection.failure(operation, error);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('the Redis store is closed');
  }
}


/** Escapes Redis glob characters so a SCAN MATCH pattern matches the text literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function expectString(reply: unknown, what: string): string {
  if (typeof reply === 'string') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  throw new Error(`Redis answered ${typeof reply} where ${what} was expected`);
}
