/**
 * The consul store: acmectl's records in Consul's KV store, over Consul's HTTP API (the calls are in api.ts;
 * the ACL token travels only in the X-Consul-Token header). Loaded lazily by openStore().
 *
 * Layout under the URL's KV path P (default `acmectl/`), so that no store key can collide with a lock record
 * and `list('')` sees only store entries:
 *   P data/<key>     store entries: a 43-byte text header, then the value (see ENVELOPE below)
 *   P locks/<name>   lock records, held with Consul's own session locks (?acquire=)
 *   P fences/<name>  the last fencing token handed out for <name>; never delete these
 * An ACL policy for acmectl needs `key_prefix "P" { policy = "write" }` and `session_prefix "" { policy = "write" }`.
 *
 * Where Consul bites, and what we do about it:
 * - Revisions are ModifyIndex values: Raft indexes, global to the cluster and only ever growing, so a key that is
 *   deleted and written again never gets an old revision back.
 * - A PUT answers only `true`/`false` (200, never 409), not the new index, and Consul does not even bump the index
 *   when a write changes nothing. So every value carries a random write id in its header, and after a successful
 *   write we read the key back: the entry with our write id carries our revision.
 * - Consul KV has no per-key TTL: the header carries the expiry; expired entries are hidden from every read and
 *   deleted lazily with a CAS delete.
 * - Create-only is `?cas=0`, except over an expired entry, which still exists for Consul: then we CAS on its index.
 * - Values are at most 512 KiB (kv_max_value_size) INCLUDING our header; larger ones are refused before sending.
 * - Sessions live at least 10 s (and Consul invalidates them only after twice their TTL), while acmectl leases may
 *   be shorter: each lock record also stores its own expiry, which acmectl enforces (see LOCKS below).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { compareUtf8 } from '../../domain/compare-utf8.js';
import { StoreBackend } from '../backend.js';
import { StoreErrors } from '../errors.js';
import { expiryOf } from '../put-options.js';
import { parseRevision } from '../revision.js';
import type { Entry, KeyedEntry, PutOptions, PutResult, Store } from '../store.js';
import { ConsulApi } from './api.js';
import {
  CONSUL_MAX_VALUE_BYTES,
  CONSUL_VALUE_LIMIT_BYTES,
  ENVELOPE_BYTES,
  envelopeHeader,
  isExpired,
  isHeldBy,
  isLive,
  lockRecordBody,
  parseLockRecord,
  sessionTtlOf,
  toStoreEntry,
  unwrapValue,
  type KvEntry,
  type StoredValue,
} from './records.js';
import type { ConsulStoreConfig } from './url.js';

export { CONSUL_MAX_VALUE_BYTES, CONSUL_VALUE_LIMIT_BYTES } from './records.js';

const DATA = 'data/';
const LOCKS = 'locks/';
const FENCES = 'fences/';

/** A write that races with others retries this often before the operation gives up. */
const MAX_ATTEMPTS = 10;
/** Written into lock records for people reading the KV store: which host and process holds a lock. */
const HOLDER = `${hostname()} pid ${process.pid}`;

/** Opens the consul store and checks that Consul answers and the token may read the KV path. */
export async function openConsulStore(config: ConsulStoreConfig): Promise<Store> {
  const store = new ConsulStore(config);
  try {
    await store.checkAccess();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/**
 * A Store in Consul's KV store. `kind` 'consul', shared: every host pointing at the same Consul cluster and KV
 * path sees the same entries and locks. Every conditional write is one atomic Consul operation (a CAS on
 * ModifyIndex or a session lock); reads that precede it only decide which one to send.
 */
export class ConsulStore extends StoreBackend {
  readonly kind = 'consul';
  readonly shared = true;

  readonly #config: ConsulStoreConfig;
  readonly #api: ConsulApi;
  /** The Consul session of each lease this store holds, by lease owner id. */
  readonly #sessions = new Map<string, string>();

  constructor(config: ConsulStoreConfig) {
    const errors = new StoreErrors('consul', config.display);
    errors.secrets.add(config.token);
    super(errors);
    this.#config = config;
    this.#api = new ConsulApi(config, errors);
  }

  /**
   * One read of the KV path itself: fails with an OperationError when Consul cannot be reached or the token
   * is refused (Consul filters lists by ACL silently, but refuses a single read with 403).
   */
  async checkAccess(): Promise<void> {
    await this.#api.readEntry('connect', this.#config.kvPath);
  }

  async get(key: string): Promise<Entry | null> {
    this.checkOpen();
    const entry = await this.#api.readEntry(`read ${key}`, this.#dataKey(key));
    if (entry === null) return null;
    const stored = this.#unwrap(entry);
    if (isExpired(stored)) {
      await this.#sweep([entry]);
      return null;
    }
    return toStoreEntry(stored, entry.modifyIndex);
  }

  async put(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.checkOpen();
    const expiresAt = expiryOf(options, Date.now());
    const dataKey = this.#dataKey(key);
    if (value.byteLength > CONSUL_MAX_VALUE_BYTES) {
      throw this.errors.failure(
        `write ${key}`,
        `the value is too large for Consul: ${value.byteLength} bytes, and at most ${CONSUL_MAX_VALUE_BYTES} bytes fit ` +
          `(Consul's limit of ${CONSUL_VALUE_LIMIT_BYTES} bytes per entry, less acmectl's ${ENVELOPE_BYTES}-byte header)`,
      );
    }
    const writeId = randomBytes(8).toString('hex');
    // Copied into the envelope here, so the caller may reuse its buffer as soon as put() returns.
    const body = Buffer.concat([envelopeHeader(writeId, expiresAt), value]);

    let written: boolean;
    if (options.ifRev !== undefined) {
      written = await this.#putIfRevision(key, body, options.ifRev);
    } else if (options.ifAbsent === true) {
      written = await this.#putIfAbsent(key, body);
    } else {
      written = await this.#api.putKv(`write ${key}`, dataKey, body);
    }
    if (!written) return { ok: false };
    return { ok: true, rev: await this.#revisionOfWrite(key, dataKey, writeId) };
  }

  /**
   * Deletes the live entry with a CAS delete on the index just read. Consul answers a CAS delete of a key that
   * someone else deleted meanwhile with `true`: then the entry we saw is gone all the same, and we say so.
   */
  async delete(key: string, options: { ifRev?: string } = {}): Promise<boolean> {
    this.checkOpen();
    const dataKey = this.#dataKey(key);
    const wanted = options.ifRev === undefined ? undefined : parseRevision(options.ifRev);
    if (options.ifRev !== undefined && wanted === undefined) return false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await this.#api.readEntry(`read ${key}`, dataKey);
      if (entry === null) return false;
      if (isExpired(this.#unwrap(entry))) {
        await this.#sweep([entry]);
        return false;
      }
      if (wanted !== undefined && entry.modifyIndex !== wanted) return false;
      if (await this.#api.deleteKv(`delete ${key}`, dataKey, entry.modifyIndex)) return true;
      // Changed between our read and our delete: with ifRev that settles it; without, look again.
      if (wanted !== undefined) return false;
    }
    throw this.errors.failure(`delete ${key}`, `the entry kept changing during ${MAX_ATTEMPTS} attempts`);
  }

  /**
   * Live keys starting with `prefix` (literally: Consul's prefixes are plain strings), in UTF-8 byte order. The
   * values come along (`?recurse`), since only they say whether an entry has expired; expired ones are deleted.
   */
  async *list(prefix: string): AsyncIterable<string> {
    for (const { key } of await this.#liveEntries(prefix)) yield key;
  }

  /** The same one `?recurse` read as list(), values kept. */
  override async *entries(prefix: string): AsyncIterable<KeyedEntry> {
    yield* await this.#liveEntries(prefix);
  }

  async #liveEntries(prefix: string): Promise<KeyedEntry[]> {
    this.checkOpen();
    const dataPrefix = this.#dataKey(prefix);
    const entries = await this.#api.readEntries('list', dataPrefix);
    const live: KeyedEntry[] = [];
    const expired: KvEntry[] = [];
    for (const entry of entries) {
      // Folder placeholders made in Consul's UI end in '/'; store keys never do.
      if (!entry.key.startsWith(dataPrefix) || entry.key.endsWith('/')) continue;
      const stored = this.#unwrap(entry);
      if (isExpired(stored)) expired.push(entry);
      else live.push({ key: entry.key.slice(this.#config.kvPath.length + DATA.length), entry: toStoreEntry(stored, entry.modifyIndex) });
    }
    await this.#sweep(expired);
    return live.sort((a, b) => compareUtf8(a.key, b.key));
  }

  /** Ends the sessions of leases whose release failed (best effort: they expire anyway), then the connections. */
  protected async disconnect(): Promise<void> {
    await Promise.allSettled([...this.#sessions.values()].map((session) => this.#api.destroySession(session)));
    this.#sessions.clear();
    this.#api.close();
  }

  // ---- store entries ------------------------------------------------------------------------------------

  async #putIfRevision(key: string, body: Buffer, ifRev: string): Promise<boolean> {
    const wanted = parseRevision(ifRev);
    if (wanted === undefined) return false;
    const dataKey = this.#dataKey(key);
    // The read only rules out an expired version (Consul would still match its index); the CAS decides.
    const entry = await this.#api.readEntry(`read ${key}`, dataKey);
    if (entry === null || entry.modifyIndex !== wanted || isExpired(this.#unwrap(entry))) return false;
    return this.#api.putKv(`write ${key}`, dataKey, body, { cas: wanted });
  }

  async #putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    const dataKey = this.#dataKey(key);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await this.#api.readEntry(`read ${key}`, dataKey);
      if (entry !== null && !isExpired(this.#unwrap(entry))) return false;
      // ?cas=0 creates only if the key does not exist at all; over an expired entry, CAS on its index.
      if (await this.#api.putKv(`write ${key}`, dataKey, body, { cas: entry?.modifyIndex ?? 0 })) return true;
      // Someone wrote or deleted it meanwhile: look again.
    }
    return false;
  }

  /**
   * The revision of the write that stored `writeId` at `dataKey`, read back just after it succeeded. If another
   * write has replaced ours already, ours has no current revision: we return one that never matches a
   * ModifyIndex, so a CAS with it fails, as it must.
   */
  async #revisionOfWrite(key: string, dataKey: string, writeId: string): Promise<string> {
    const entry = await this.#api.readEntry(`read back ${key}`, dataKey, { consistent: true });
    if (entry !== null && this.#unwrap(entry).writeId === writeId) return String(entry.modifyIndex);
    return `superseded-${writeId}`;
  }

  /** Deletes expired entries if they have not changed since we read them; failures are left for next time. */
  async #sweep(expired: KvEntry[]): Promise<void> {
    await Promise.allSettled(expired.map((entry) => this.#api.deleteKv('delete an expired entry', entry.key, entry.modifyIndex)));
  }

  #unwrap(entry: KvEntry): StoredValue {
    const stored = unwrapValue(entry.value);
    if (stored === null) {
      throw this.errors.failure(`read ${entry.key}`, 'the entry was not written by acmectl (its value lacks acmectl\'s header)', {
        hint: `keep ${this.#config.kvPath}${DATA} for acmectl alone`,
      });
    }
    return stored;
  }

  #dataKey(key: string): string {
    return `${this.#config.kvPath}${DATA}${key}`;
  }

  // ---- locks --------------------------------------------------------------------------------------------
  //
  // LOCKS. A lease is a Consul session holding the lock key P locks/<name> (?acquire=), whose value records the
  // owner, fence and our own expiry. The session's TTL is max(10 s, ttlMs), since Consul refuses shorter ones;
  // the recorded expiry is what counts: a record past its expiry may be taken over even though its (stale)
  // holder's session still holds the key. Every change to a held record is a CAS on its ModifyIndex, so the
  // holder's renewal and a take-over can never both succeed.
  //
  // Acquiring:
  //   1. read the record; a record that has not expired is a live lease (or a take-over in progress): null.
  //   2. create our session (LockDelay 0: Consul would otherwise refuse the key for 15 s after we destroy an
  //      expired holder's session).
  //   3. if the key is still locked by an expired holder's session: claim the record with a CAS (from now on
  //      that holder's renewal fails), then destroy its session, which releases the key.
  //   4. ?acquire= with our session: Consul lets exactly one session hold the key.
  //   5. take the next fence from P fences/<name> (a CAS loop), only now that we hold the key, so fences grow in
  //      the order leases are handed out, then record it with a CAS. A failed CAS means we were taken over.

  protected async acquireLock(name: string, owner: string, ttlMs: number): Promise<bigint | null> {
    this.checkOpen();
    const sessionTtlS = sessionTtlOf(ttlMs);
    const lockKey = this.#lockKey(name);
    const current = await this.#api.readEntry(`read lock ${name}`, lockKey);
    if (current !== null && isLive(parseLockRecord(current.value))) return null;

    const session = await this.#api.createSession(name, sessionTtlS);
    let fence: bigint | null = null;
    try {
      fence = await this.#takeLock(name, lockKey, current, owner, session, ttlMs);
    } finally {
      if (fence === null) await this.#api.destroySession(session).catch(() => undefined);
    }
    if (fence !== null) this.#sessions.set(owner, session);
    return fence;
  }

  async #takeLock(name: string, lockKey: string, current: KvEntry | null, owner: string, session: string, ttlMs: number): Promise<bigint | null> {
    const record = (fence: bigint | null): Buffer => lockRecordBody({ owner, fence: fence === null ? null : String(fence), expiresAt: Date.now() + ttlMs, session, holder: HOLDER });
    if (current !== null && current.session !== '') {
      if (!(await this.#api.putKv(`take over lock ${name}`, lockKey, record(null), { cas: current.modifyIndex }))) return null;
      await this.#api.destroySession(current.session);
    }
    if (!(await this.#api.putKv(`take lock ${name}`, lockKey, record(null), { acquire: session }))) return null;
    const held = await this.#api.readEntry(`read lock ${name}`, lockKey);
    if (held === null || held.session !== session || parseLockRecord(held.value)?.owner !== owner) return null;
    const fence = await this.#nextFence(name);
    if (!(await this.#api.putKv(`take lock ${name}`, lockKey, record(fence), { cas: held.modifyIndex }))) return null;
    return fence;
  }

  protected async renewLock(name: string, owner: string, fence: bigint, ttlMs: number): Promise<boolean> {
    this.checkOpen();
    const session = this.#sessions.get(owner);
    // A holder whose session is gone (expired, destroyed by a take-over or by an operator) has lost the lease.
    if (session === undefined || !(await this.#api.renewSession(session))) return false;
    const lockKey = this.#lockKey(name);
    const current = await this.#api.readEntry(`read lock ${name}`, lockKey);
    const record = current === null ? null : parseLockRecord(current.value);
    if (current === null || record === null || !isHeldBy(record, current, owner, fence, session) || !isLive(record)) return false;
    return this.#api.putKv(`refresh lock ${name}`, lockKey, lockRecordBody({ ...record, expiresAt: Date.now() + ttlMs }), { cas: current.modifyIndex });
  }

  /** Releases the key (leaving an empty value: free) if this lease still holds it, then destroys the session. */
  protected async releaseLock(name: string, owner: string, fence: bigint): Promise<boolean> {
    const session = this.#sessions.get(owner);
    if (session === undefined) return false;
    this.#sessions.delete(owner);
    let released = false;
    try {
      const lockKey = this.#lockKey(name);
      const current = await this.#api.readEntry(`read lock ${name}`, lockKey);
      const record = current === null ? null : parseLockRecord(current.value);
      if (current !== null && record !== null && isHeldBy(record, current, owner, fence, session)) {
        released = await this.#api.putKv(`release lock ${name}`, lockKey, Buffer.alloc(0), { release: session });
      }
    } finally {
      // Destroying the session also releases the key in Consul, should the release above have failed.
      await this.#api.destroySession(session);
    }
    return released;
  }

  /** The next fencing token for `name`: a CAS loop on P fences/<name>, which only ever grows. */
  async #nextFence(name: string): Promise<bigint> {
    const counterKey = `${this.#config.kvPath}${FENCES}${name}`;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const counter = await this.#api.readEntry(`read the fence of ${name}`, counterKey);
      const text = counter?.value.toString('utf8') ?? '0';
      if (!/^\d{1,30}$/.test(text)) throw this.errors.failure(`take lock ${name}`, `the fence counter ${counterKey} is damaged`);
      const next = BigInt(text) + 1n;
      if (await this.#api.putKv(`take lock ${name}`, counterKey, Buffer.from(String(next)), { cas: counter?.modifyIndex ?? 0 })) return next;
    }
    throw this.errors.failure(`take lock ${name}`, `the fence counter ${counterKey} kept changing during ${MAX_ATTEMPTS} attempts`);
  }

  #lockKey(name: string): string {
    return `${this.#config.kvPath}${LOCKS}${name}`;
  }
}
