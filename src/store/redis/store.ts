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
import type { Redis } from 'ioredis';
import { compareUtf8 } from '../../domain/compare-utf8.js';
import { StoreBackend, type FailureDescription } from '../backend.js';
import { StoreErrors } from '../errors.js';
import { checkPutOptions } from '../put-options.js';
import type { Entry, KeyedEntry, PutOptions, PutResult, Store } from '../store.js';
import { RedisConnection } from './connection.js';
import { ACQUIRE, DELETE_IF_REV, PUT, RELEASE, RENEW, type LuaScript } from './scripts.js';
import type { RedisStoreConfig } from './url.js';

/** Keys fetched per SCAN round trip while listing. */
const SCAN_BATCH = 1000;

/**
 * Opens the Redis store the config names: connects, authenticates and selects the database before resolving.
 * Throws OperationError (exit 1) naming the redacted URL when the server cannot be reached, refuses the
 * credentials, or has no such database. The caller owns the store and must close() it.
 */
export async function openRedisStore(config: RedisStoreConfig): Promise<Store> {
  const errors = new StoreErrors('Redis', config.display);
  errors.secrets.add(config.password);
  const connection = new RedisConnection(config, errors);
  try {
    await connection.connect();
  } catch (error) {
    connection.disconnect();
    const { detail, hint, cause } = connection.describe(error);
    throw errors.failure('connect', detail, { hint, cause });
  }
  return new RedisStore(config, connection, errors);
}

/**
 * A Store in Redis. `kind` 'redis', shared: every process on every host that opens the same server, database
 * and prefix sees the same entries and locks.
 */
class RedisStore extends StoreBackend {
  readonly kind = 'redis';
  readonly shared = true;

  readonly #connection: RedisConnection;
  readonly #client: Redis;
  readonly #prefix: string;

  constructor(config: RedisStoreConfig, connection: RedisConnection, errors: StoreErrors) {
    super(errors);
    this.#connection = connection;
    this.#client = connection.client;
    this.#prefix = config.prefix;
  }

  async get(key: string): Promise<Entry | null> {
    return this.run(`read ${key}`, async () => {
      // Redis checks a key's expiry on every access, so a TTL entry past its time reads as missing here even
      // before the server has deleted it.
      return entryOf(await this.#client.hmgetBuffer(this.#entryKey(key), ...ENTRY_FIELDS));
    });
  }

  /** The listed keys read PIPELINE_BATCH at a time, each batch one pipelined round trip of HMGETs. */
  override async *entries(prefix: string): AsyncIterable<KeyedEntry> {
    const keys: string[] = [];
    for await (const key of this.list(prefix)) keys.push(key);
    for (let start = 0; start < keys.length; start += PIPELINE_BATCH) {
      const batch = keys.slice(start, start + PIPELINE_BATCH);
      const answers = await this.run(`read ${batch.length} entries under ${prefix}`, async () => {
        const pipeline = this.#client.pipeline();
        for (const key of batch) pipeline.hmgetBuffer(this.#entryKey(key), ...ENTRY_FIELDS);
        const results = (await pipeline.exec()) ?? [];
        return results.map(([error, fields]) => {
          if (error) throw error;
          return entryOf(fields as (Buffer | null)[]);
        });
      });
      for (const [index, entry] of answers.entries()) if (entry) yield { key: batch[index]!, entry };
    }
  }

  async put(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const ttlMs = checkPutOptions(options);
    const condition = options.ifAbsent === true ? 'absent' : options.ifRev !== undefined ? 'rev' : '';
    return this.run(`write ${key}`, async () => {
      const rev = await this.#eval(
        PUT,
        [this.#entryKey(key), this.#revisionKey()],
        [Buffer.from(value.buffer, value.byteOffset, value.byteLength), condition, options.ifRev ?? '', ttlMs === undefined ? '' : String(ttlMs)],
      );
      return rev === null ? { ok: false } : { ok: true, rev: expectString(rev, 'a revision') };
    });
  }

  async delete(key: string, options: { ifRev?: string } = {}): Promise<boolean> {
    return this.run(`delete ${key}`, async () => {
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
    const keys = await this.run(`list ${prefix}`, async () => {
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

  protected async acquireLock(name: string, owner: string, ttlMs: number): Promise<bigint | null> {
    const fence = await this.#eval(ACQUIRE, [this.#lockKey(name), this.#fenceKey(name)], [owner, String(ttlMs)]);
    return fence === null ? null : BigInt(expectString(fence, 'a fencing token'));
  }

  protected async renewLock(name: string, owner: string, fence: bigint, ttlMs: number): Promise<boolean> {
    return (await this.#eval(RENEW, [this.#lockKey(name)], [`${owner}:${fence}`, String(ttlMs)])) === 1;
  }

  protected async releaseLock(name: string, owner: string, fence: bigint): Promise<boolean> {
    return (await this.#eval(RELEASE, [this.#lockKey(name)], [`${owner}:${fence}`])) === 1;
  }

  /** Quits the connection; never hangs on a dead server. */
  protected disconnect(): Promise<void> {
    return this.#connection.close();
  }

  protected override describeFailure(error: unknown): FailureDescription {
    return this.#connection.describe(error);
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

const ENTRY_FIELDS = ['value', 'rev', 'expiresAt'] as const;
/** Keys read per pipelined round trip by entries(): a few MiB of certificate records at most. */
const PIPELINE_BATCH = 500;

/** An entry from the fields of its hash (HMGET value rev expiresAt); null when it is gone. */
function entryOf([value, rev, expiresAt]: (Buffer | null | undefined)[]): Entry | null {
  if (value == null || rev == null) return null;
  const entry: Entry = { value: new Uint8Array(value), rev: rev.toString('utf8') };
  if (expiresAt != null) entry.expiresAt = Number(expiresAt.toString('utf8'));
  return entry;
}
