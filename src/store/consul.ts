/**
 * The consul store: acmectl's records in Consul's KV store, over Consul's HTTP API (node:http/https; the
 * ACL token travels only in the X-Consul-Token header). Loaded lazily by openStore().
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
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { hostname } from 'node:os';
import { rootCertificates } from 'node:tls';
import { OperationError } from '../domain/errors.js';
import type { ConsulStoreConfig } from './consul-url.js';
import { LeaseKeeper, type LeasePrimitives } from './lease.js';
import { compareUtf8 } from '../domain/compare-utf8.js';
import type { Entry, Lease, LockOptions, PutOptions, PutResult, Store } from './store.js';
import { expiryOf } from './put-options.js';
import { describeSocketError, isCertificateError } from '../domain/network-failure.js';

/** Consul's default kv_max_value_size: 512 KiB per value. */
export const CONSUL_VALUE_LIMIT_BYTES = 512 * 1024;

/*
 * ENVELOPE: every store entry starts with one line of text, so `consul kv get` still shows a readable value:
 *   "acmectl:1 <write id: 16 hex digits> <expiresAt: epoch ms, 15 digits, 000000000000000 = never>\n"
 * The write id makes every write distinct (see above); the fixed length makes the size limit one number.
 */
const ENVELOPE_PREFIX = 'acmectl:1 ';
const ENVELOPE_BYTES = ENVELOPE_PREFIX.length + 16 + 1 + 15 + 1;
const ENVELOPE_HEADER = /^acmectl:1 ([0-9a-f]{16}) ([0-9]{15})\n$/;

/** The largest value the consul store takes: Consul's limit minus the envelope header. */
export const CONSUL_MAX_VALUE_BYTES = CONSUL_VALUE_LIMIT_BYTES - ENVELOPE_BYTES;

const DATA = 'data/';
const LOCKS = 'locks/';
const FENCES = 'fences/';

/** Consul's limits on a session TTL. */
const SESSION_TTL_MIN_S = 10;
const SESSION_TTL_MAX_S = 86_400;
/** A write that races with others retries this often before the operation gives up. */
const MAX_ATTEMPTS = 10;
/** Written into lock records for people reading the KV store: which host and process holds a lock. */
const HOLDER = `${hostname()} pid ${process.pid}`;

/** One KV entry as Consul returns it, value decoded. */
interface KvEntry {
  key: string;
  value: Buffer;
  modifyIndex: number;
  /** The session holding the key's lock, '' when none. */
  session: string;
}

interface StoredValue {
  value: Buffer;
  writeId: string;
  expiresAt: number | undefined;
}

/** What a lock record holds (JSON); an empty value means released. */
interface LockRecord {
  owner: string;
  /** Decimal; null while the holder is still taking its fence. */
  fence: string | null;
  /** Epoch ms: the lease is over after this, whatever Consul's session says. */
  expiresAt: number;
  session: string;
  /** For people reading the KV store: which host and process holds it. */
  holder: string;
}

interface ConsulResponse {
  status: number;
  body: Buffer;
}

type Query = Record<string, string | number | true>;

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
export class ConsulStore implements Store {
  readonly kind = 'consul';
  readonly shared = true;

  readonly #config: ConsulStoreConfig;
  readonly #agent: HttpAgent;
  readonly #leases: LeaseKeeper;
  /** The Consul session of each lease this store holds, by lease owner id. */
  readonly #sessions = new Map<string, string>();
  #closed = false;

  constructor(config: ConsulStoreConfig) {
    this.#config = config;
    this.#agent =
      config.protocol === 'https'
        ? new HttpsAgent({
            keepAlive: true,
            rejectUnauthorized: config.tlsVerify,
            ...(config.servername !== undefined ? { servername: config.servername } : {}),
            ...(config.caBundlePem !== undefined ? { ca: [...rootCertificates, config.caBundlePem] } : {}),
          })
        : new HttpAgent({ keepAlive: true });
    const primitives: LeasePrimitives = {
      acquire: (name, owner, ttlMs) => this.#acquireLock(name, owner, ttlMs),
      renew: (name, owner, fence, ttlMs) => this.#renewLock(name, owner, fence, ttlMs),
      release: (name, owner, fence) => this.#releaseLock(name, owner, fence),
    };
    this.#leases = new LeaseKeeper(primitives);
  }

  /**
   * One read of the KV path itself: fails with an OperationError when Consul cannot be reached or the token
   * is refused (Consul filters lists by ACL silently, but refuses a single read with 403).
   */
  async checkAccess(): Promise<void> {
    await this.#readEntry('connect', this.#config.kvPath);
  }

  async get(key: string): Promise<Entry | null> {
    this.#checkOpen();
    const entry = await this.#readEntry(`read ${key}`, this.#dataKey(key));
    if (entry === null) return null;
    const stored = this.#unwrap(entry);
    if (isExpired(stored)) {
      await this.#sweep([entry]);
      return null;
    }
    return toStoreEntry(stored, entry.modifyIndex);
  }

  async put(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.#checkOpen();
    const expiresAt = expiryOf(options, Date.now());
    const dataKey = this.#dataKey(key);
    if (value.byteLength > CONSUL_MAX_VALUE_BYTES) {
      throw this.#failure(
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
      written = await this.#putKv(`write ${key}`, dataKey, body);
    }
    if (!written) return { ok: false };
    return { ok: true, rev: await this.#revisionOfWrite(key, dataKey, writeId) };
  }

  /**
   * Deletes the live entry with a CAS delete on the index just read. Consul answers a CAS delete of a key that
   * someone else deleted meanwhile with `true`: then the entry we saw is gone all the same, and we say so.
   */
  async delete(key: string, options: { ifRev?: string } = {}): Promise<boolean> {
    this.#checkOpen();
    const dataKey = this.#dataKey(key);
    const wanted = options.ifRev === undefined ? undefined : parseRevision(options.ifRev);
    if (options.ifRev !== undefined && wanted === undefined) return false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await this.#readEntry(`read ${key}`, dataKey);
      if (entry === null) return false;
      if (isExpired(this.#unwrap(entry))) {
        await this.#sweep([entry]);
        return false;
      }
      if (wanted !== undefined && entry.modifyIndex !== wanted) return false;
      if (await this.#deleteKv(`delete ${key}`, dataKey, entry.modifyIndex)) return true;
      // Changed between our read and our delete: with ifRev that settles it; without, look again.
      if (wanted !== undefined) return false;
    }
    throw this.#failure(`delete ${key}`, `the entry kept changing during ${MAX_ATTEMPTS} attempts`);
  }

  /**
   * Live keys starting with `prefix` (literally: Consul's prefixes are plain strings), in UTF-8 byte order. The
   * values come along (`?recurse`), since only they say whether an entry has expired; expired ones are deleted.
   */
  async *list(prefix: string): AsyncIterable<string> {
    this.#checkOpen();
    const dataPrefix = this.#dataKey(prefix);
    const entries = await this.#readEntries('list', dataPrefix);
    const keys: string[] = [];
    const expired: KvEntry[] = [];
    for (const entry of entries) {
      // Folder placeholders made in Consul's UI end in '/'; store keys never do.
      if (!entry.key.startsWith(dataPrefix) || entry.key.endsWith('/')) continue;
      if (isExpired(this.#unwrap(entry))) expired.push(entry);
      else keys.push(entry.key.slice(this.#config.kvPath.length + DATA.length));
    }
    await this.#sweep(expired);
    keys.sort(compareUtf8);
    yield* keys;
  }

  async lock(name: string, options: LockOptions): Promise<Lease | null> {
    this.#checkOpen();
    return this.#leases.lock(name, options);
  }

  /** Releases held leases (their sessions too), then closes connections. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#leases.close();
    this.#closed = true;
    // Sessions of leases whose release failed: best effort, they expire by themselves anyway.
    await Promise.allSettled([...this.#sessions.values()].map((session) => this.#destroySession(session)));
    this.#sessions.clear();
    this.#agent.destroy();
  }

  // ---- store entries ------------------------------------------------------------------------------------

  async #putIfRevision(key: string, body: Buffer, ifRev: string): Promise<boolean> {
    const wanted = parseRevision(ifRev);
    if (wanted === undefined) return false;
    const dataKey = this.#dataKey(key);
    // The read only rules out an expired version (Consul would still match its index); the CAS decides.
    const entry = await this.#readEntry(`read ${key}`, dataKey);
    if (entry === null || entry.modifyIndex !== wanted || isExpired(this.#unwrap(entry))) return false;
    return this.#putKv(`write ${key}`, dataKey, body, { cas: wanted });
  }

  async #putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    const dataKey = this.#dataKey(key);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await this.#readEntry(`read ${key}`, dataKey);
      if (entry !== null && !isExpired(this.#unwrap(entry))) return false;
      // ?cas=0 creates only if the key does not exist at all; over an expired entry, CAS on its index.
      if (await this.#putKv(`write ${key}`, dataKey, body, { cas: entry?.modifyIndex ?? 0 })) return true;
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
    const entry = await this.#readEntry(`read back ${key}`, dataKey, { consistent: true });
    if (entry !== null && this.#unwrap(entry).writeId === writeId) return String(entry.modifyIndex);
    return `superseded-${writeId}`;
  }

  /** Deletes expired entries if they have not changed since we read them; failures are left for next time. */
  async #sweep(expired: KvEntry[]): Promise<void> {
    await Promise.allSettled(expired.map((entry) => this.#deleteKv('delete an expired entry', entry.key, entry.modifyIndex)));
  }

  #unwrap(entry: KvEntry): StoredValue {
    const stored = unwrapValue(entry.value);
    if (stored === null) {
      throw this.#failure(`read ${entry.key}`, 'the entry was not written by acmectl (its value lacks acmectl\'s header)', {
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

  async #acquireLock(name: string, owner: string, ttlMs: number): Promise<bigint | null> {
    this.#checkOpen();
    const sessionTtlS = sessionTtlOf(ttlMs);
    const lockKey = this.#lockKey(name);
    const current = await this.#readEntry(`read lock ${name}`, lockKey);
    if (current !== null && isLive(parseLockRecord(current.value))) return null;

    const session = await this.#createSession(name, sessionTtlS);
    let fence: bigint | null = null;
    try {
      fence = await this.#takeLock(name, lockKey, current, owner, session, ttlMs);
    } finally {
      if (fence === null) await this.#destroySession(session).catch(() => undefined);
    }
    if (fence !== null) this.#sessions.set(owner, session);
    return fence;
  }

  async #takeLock(name: string, lockKey: string, current: KvEntry | null, owner: string, session: string, ttlMs: number): Promise<bigint | null> {
    const record = (fence: bigint | null): Buffer => lockRecordBody({ owner, fence: fence === null ? null : String(fence), expiresAt: Date.now() + ttlMs, session, holder: HOLDER });
    if (current !== null && current.session !== '') {
      if (!(await this.#putKv(`take over lock ${name}`, lockKey, record(null), { cas: current.modifyIndex }))) return null;
      await this.#destroySession(current.session);
    }
    if (!(await this.#putKv(`take lock ${name}`, lockKey, record(null), { acquire: session }))) return null;
    const held = await this.#readEntry(`read lock ${name}`, lockKey);
    if (held === null || held.session !== session || parseLockRecord(held.value)?.owner !== owner) return null;
    const fence = await this.#nextFence(name);
    if (!(await this.#putKv(`take lock ${name}`, lockKey, record(fence), { cas: held.modifyIndex }))) return null;
    return fence;
  }

  async #renewLock(name: string, owner: string, fence: bigint, ttlMs: number): Promise<boolean> {
    this.#checkOpen();
    const session = this.#sessions.get(owner);
    // A holder whose session is gone (expired, destroyed by a take-over or by an operator) has lost the lease.
    if (session === undefined || !(await this.#renewSession(session))) return false;
    const lockKey = this.#lockKey(name);
    const current = await this.#readEntry(`read lock ${name}`, lockKey);
    const record = current === null ? null : parseLockRecord(current.value);
    if (current === null || record === null || !isHeldBy(record, current, owner, fence, session) || !isLive(record)) return false;
    return this.#putKv(`refresh lock ${name}`, lockKey, lockRecordBody({ ...record, expiresAt: Date.now() + ttlMs }), { cas: current.modifyIndex });
  }

  /** Releases the key (leaving an empty value: free) if this lease still holds it, then destroys the session. */
  async #releaseLock(name: string, owner: string, fence: bigint): Promise<boolean> {
    const session = this.#sessions.get(owner);
    if (session === undefined) return false;
    this.#sessions.delete(owner);
    let released = false;
    try {
      const lockKey = this.#lockKey(name);
      const current = await this.#readEntry(`read lock ${name}`, lockKey);
      const record = current === null ? null : parseLockRecord(current.value);
      if (current !== null && record !== null && isHeldBy(record, current, owner, fence, session)) {
        released = await this.#putKv(`release lock ${name}`, lockKey, Buffer.alloc(0), { release: session });
      }
    } finally {
      // Destroying the session also releases the key in Consul, should the release above have failed.
      await this.#destroySession(session);
    }
    return released;
  }

  /** The next fencing token for `name`: a CAS loop on P fences/<name>, which only ever grows. */
  async #nextFence(name: string): Promise<bigint> {
    const counterKey = `${this.#config.kvPath}${FENCES}${name}`;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const counter = await this.#readEntry(`read the fence of ${name}`, counterKey);
      const text = counter?.value.toString('utf8') ?? '0';
      if (!/^\d{1,30}$/.test(text)) throw this.#failure(`take lock ${name}`, `the fence counter ${counterKey} is damaged`);
      const next = BigInt(text) + 1n;
      if (await this.#putKv(`take lock ${name}`, counterKey, Buffer.from(String(next)), { cas: counter?.modifyIndex ?? 0 })) return next;
    }
    throw this.#failure(`take lock ${name}`, `the fence counter ${counterKey} kept changing during ${MAX_ATTEMPTS} attempts`);
  }

  #lockKey(name: string): string {
    return `${this.#config.kvPath}${LOCKS}${name}`;
  }

  async #createSession(name: string, ttlS: number): Promise<string> {
    const body = Buffer.from(JSON.stringify({ Name: `acmectl lock ${name}`, TTL: `${ttlS}s`, LockDelay: '0s', Behavior: 'release' }));
    const response = await this.#request(`take lock ${name}`, 'PUT', '/v1/session/create', {}, body);
    const id = (this.#json(`take lock ${name}`, response) as { ID?: unknown } | null)?.ID;
    if (typeof id !== 'string' || id === '') throw this.#failure(`take lock ${name}`, 'Consul answered a session create without a session ID');
    return id;
  }

  /** True when renewed; false when Consul no longer knows the session (404). */
  async #renewSession(session: string): Promise<boolean> {
    const response = await this.#request('refresh a lock', 'PUT', `/v1/session/renew/${encodeURIComponent(session)}`, {}, undefined, [404]);
    return response.status === 200;
  }

  /** Destroys a session; one that is already gone is fine (Consul answers that with 500 "Unknown session" under ACLs). */
  async #destroySession(session: string): Promise<void> {
    const response = await this.#request('end a lock session', 'PUT', `/v1/session/destroy/${encodeURIComponent(session)}`, {}, undefined, [500]);
    if (response.status === 500 && !/unknown session/i.test(response.body.toString('utf8'))) this.#checkStatus('end a lock session', response);
  }

  // ---- Consul HTTP API ----------------------------------------------------------------------------------

  /** The entry at `key`, or null (404). */
  async #readEntry(operation: string, key: string, query: Query = {}): Promise<KvEntry | null> {
    const response = await this.#request(operation, 'GET', kvPath(key), query, undefined, [404]);
    if (response.status === 404) return null;
    return this.#entries(operation, response).find((entry) => entry.key === key) ?? null;
  }

  /** Every entry whose key starts with `prefix`. */
  async #readEntries(operation: string, prefix: string): Promise<KvEntry[]> {
    const response = await this.#request(operation, 'GET', kvPath(prefix), { recurse: true }, undefined, [404]);
    return response.status === 404 ? [] : this.#entries(operation, response);
  }

  /** PUT of a raw value; true/false as Consul answers (false: the cas/acquire/release condition failed). */
  async #putKv(operation: string, key: string, body: Buffer, query: Query = {}): Promise<boolean> {
    return this.#boolean(operation, await this.#request(operation, 'PUT', kvPath(key), query, body));
  }

  async #deleteKv(operation: string, key: string, cas: number): Promise<boolean> {
    return this.#boolean(operation, await this.#request(operation, 'DELETE', kvPath(key), { cas }));
  }

  #entries(operation: string, response: ConsulResponse): KvEntry[] {
    const parsed = this.#json(operation, response);
    if (!Array.isArray(parsed)) throw this.#failure(operation, 'Consul answered something other than a list of entries');
    return parsed.map((item: unknown) => {
      const raw = item as { Key?: unknown; Value?: unknown; ModifyIndex?: unknown; Session?: unknown };
      if (typeof raw.Key !== 'string' || typeof raw.ModifyIndex !== 'number' || (raw.Value !== null && typeof raw.Value !== 'string')) {
        throw this.#failure(operation, 'Consul answered an entry without Key, Value or ModifyIndex');
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

  #boolean(operation: string, response: ConsulResponse): boolean {
    const text = response.body.toString('utf8').trim();
    if (text === 'true') return true;
    if (text === 'false') return false;
    throw this.#failure(operation, `Consul answered ${JSON.stringify(this.#scrub(text.slice(0, 100)))} instead of true or false`);
  }

  #json(operation: string, response: ConsulResponse): unknown {
    try {
      return JSON.parse(response.body.toString('utf8'));
    } catch {
      throw this.#failure(operation, 'Consul answered something that is not JSON');
    }
  }

  /**
   * One HTTP request to Consul. Answers other than 200 (and the statuses in `allowed`) become OperationErrors;
   * so does every network failure, including no answer within the URL's timeout.
   */
  async #request(operation: string, method: 'GET' | 'PUT' | 'DELETE', path: string, query: Query, body?: Buffer, allowed: number[] = []): Promise<ConsulResponse> {
    const config = this.#config;
    const search = queryString({ ...query, ...(config.datacenter !== undefined ? { dc: config.datacenter } : {}) });
    const timeout = AbortSignal.timeout(config.timeoutMs);
    const send = config.protocol === 'https' ? httpsRequest : httpRequest;
    let response: ConsulResponse;
    try {
      response = await new Promise<ConsulResponse>((resolve, reject) => {
        const request = send(
          {
            method,
            host: config.host,
            port: config.port,
            path: `${path}${search}`,
            agent: this.#agent,
            signal: timeout,
            headers: {
              ...(config.token !== undefined ? { 'X-Consul-Token': config.token } : {}),
              ...(body !== undefined ? { 'Content-Type': 'application/octet-stream', 'Content-Length': body.byteLength } : {}),
            },
          },
          (answer: IncomingMessage) => {
            const chunks: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => chunks.push(chunk));
            answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(chunks) }));
            answer.on('error', reject);
          },
        );
        request.on('error', reject);
        request.end(body);
      });
    } catch (error) {
      throw this.#failure(operation, describeNetworkFailure(error, timeout.aborted, config.timeoutMs), { cause: error, hint: networkHint(error, config) });
    }
    if (response.status !== 200 && !allowed.includes(response.status)) this.#checkStatus(operation, response);
    return response;
  }

  #checkStatus(operation: string, response: ConsulResponse): never {
    const said = this.#scrub(response.body.toString('utf8').trim().slice(0, 300));
    const answer = `Consul answered ${response.status}${said === '' ? '' : ` (${said})`}`;
    switch (response.status) {
      case 403:
        throw this.#failure(operation, `${answer}: the ACL token is missing, unknown or lacks permission`, {
          hint:
            `give acmectl a token with ?token_file=FILE or ACMECTL_STORE_TOKEN whose policy has ` +
            `key_prefix "${this.#config.kvPath}" write and session_prefix "" write`,
        });
      case 413:
        throw this.#failure(operation, `${answer}: the value is too large for this Consul (its kv_max_value_size is below ${CONSUL_VALUE_LIMIT_BYTES} bytes)`);
      default:
        throw this.#failure(operation, answer);
    }
  }

  /** Consul does not echo tokens, but nothing it says reaches a message with the token in it. */
  #scrub(text: string): string {
    const token = this.#config.token;
    return token === undefined ? text : text.split(token).join('***');
  }

  #failure(operation: string, detail: string, options: { cause?: unknown; hint?: string } = {}): OperationError {
    return new OperationError(`consul store ${this.#config.display}: could not ${operation}: ${detail}`, options);
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('the consul store is closed');
  }
}

function envelopeHeader(writeId: string, expiresAt: number | undefined): Buffer {
  return Buffer.from(`${ENVELOPE_PREFIX}${writeId} ${String(expiresAt ?? 0).padStart(15, '0')}\n`, 'latin1');
}

/** The value and header of a stored entry, or null when it does not start with acmectl's header. */
function unwrapValue(stored: Buffer): StoredValue | null {
  if (stored.length < ENVELOPE_BYTES) return null;
  const header = ENVELOPE_HEADER.exec(stored.subarray(0, ENVELOPE_BYTES).toString('latin1'));
  if (header === null) return null;
  const expiresAt = Number(header[2]);
  return { value: stored.subarray(ENVELOPE_BYTES), writeId: header[1]!, expiresAt: expiresAt === 0 ? undefined : expiresAt };
}

function isExpired(stored: StoredValue): boolean {
  return stored.expiresAt !== undefined && stored.expiresAt <= Date.now();
}

function toStoreEntry(stored: StoredValue, modifyIndex: number): Entry {
  const entry: Entry = { value: new Uint8Array(stored.value), rev: String(modifyIndex) };
  if (stored.expiresAt !== undefined) entry.expiresAt = stored.expiresAt;
  return entry;
}


/** Our revisions are ModifyIndex values in decimal; anything else can never match one. */
function parseRevision(rev: string): number | undefined {
  return /^[1-9][0-9]{0,14}$/.test(rev) ? Number(rev) : undefined;
}

function parseLockRecord(value: Buffer): LockRecord | null {
  if (value.length === 0) return null;
  try {
    const record = JSON.parse(value.toString('utf8')) as Partial<LockRecord>;
    if (typeof record.owner !== 'string' || typeof record.expiresAt !== 'number' || typeof record.session !== 'string') return null;
    return { owner: record.owner, fence: typeof record.fence === 'string' ? record.fence : null, expiresAt: record.expiresAt, session: record.session, holder: String(record.holder ?? '') };
  } catch {
    return null;
  }
}

function lockRecordBody(record: LockRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}

function isLive(record: LockRecord | null): boolean {
  return record !== null && record.expiresAt > Date.now();
}

function isHeldBy(record: LockRecord, entry: KvEntry, owner: string, fence: bigint, session: string): boolean {
  return entry.session === session && record.owner === owner && record.fence === String(fence);
}

/** Consul's session TTL for a lease of ttlMs, in whole seconds: at least 10 s, at most 24 h. */
function sessionTtlOf(ttlMs: number): number {
  // The lease refreshes at ttlMs/3 and each refresh renews the session; past 24 h a session could lapse first.
  if (ttlMs > SESSION_TTL_MAX_S * 1000) {
    throw new RangeError(`consul store: lock ttlMs must be at most ${SESSION_TTL_MAX_S * 1000} (24 h, Consul's longest session)`);
  }
  return Math.max(SESSION_TTL_MIN_S, Math.ceil(ttlMs / 1000));
}

/** `/v1/kv/<key>` with each segment percent-encoded (Consul decodes the path; '/' stays the separator). */
function kvPath(key: string): string {
  return `/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** `?a=1&recurse`: Consul looks only at whether flags such as `recurse` are present. */
function queryString(query: Query): string {
  const parts = Object.entries(query).map(([name, value]) => (value === true ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`));
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describeNetworkFailure(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${timeoutMs} ms`;
  const code = codeOf(error);
  if (isCertificateError(code)) return `its TLS certificate is not accepted (${code}: ${(error as Error).message})`;
  return describeSocketError(code) ?? (error instanceof Error ? error.message : String(error));
}

function networkHint(error: unknown, config: ConsulStoreConfig): string {
  const code = codeOf(error);
  if (isCertificateError(code)) {
    return 'pass --ca-bundle FILE with the CA that signed Consul\'s certificate, ?servername=NAME when the certificate names another host, or (for tests only) ?tls_verify=false';
  }
  return `check that Consul's HTTP API answers at ${config.protocol}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port} from this host; raise ?timeout= (ms) if it is just slow`;
}

