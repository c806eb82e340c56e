/**
 * The etcd store: etcd v3 through its JSON gRPC gateway (`POST /v3/kv/range`, `/v3/kv/txn`, ...) over
 * node:http(s), so no gRPC stack is needed. Works with etcd 3.4 and later (3.3 served the gateway at
 * /v3beta/ only).
 *
 * Layout under the URL's prefix P (default `acmectl/`):
 *   P + "kv/" + key      an entry: an envelope "acmectl-entry:1:<16-digit expiry ms>\n" + the value bytes
 *   P + "locks/" + name  a lock record: "<owner> <16-digit expiry ms>"
 *
 * Why the expiry is written into the value although etcd has leases: an etcd lease lives whole seconds, at
 * least the cluster's minimum (2 s with default settings), and is reaped up to about a second late, while
 * the Store contract hides an entry the moment its ttlMs has passed. So the envelope's expiry (epoch ms of
 * the writing host's clock) is the truth and the lease only removes the key later. The expiry digits have a
 * fixed width, so "still live at `now`" is a byte comparison etcd can make inside a transaction
 * (`value > tag + now + "\x7f"`): compare-and-set, delete and create-over-an-expired-entry are decided on
 * the server, atomically, never read-then-write in the client. This assumes the hosts sharing a store have
 * clocks that agree to well within a TTL.
 *
 * Revisions are the key's mod_revision: etcd revisions are cluster-wide and never reused, so a revision
 * never repeats for a key, even after delete and re-create. A lock's fencing token is the revision of the
 * write that acquired it, which is greater than every revision before it, so tokens strictly increase per
 * name (and across names) forever.
 */
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { AcmectlError, OperationError } from '../domain/errors.js';
import type { EtcdStoreConfig } from './etcd-url.js';
import { LeaseKeeper, type LeasePrimitives } from './lease.js';
import { compareUtf8 } from '../domain/compare-utf8.js';
import type { Entry, Lease, LockOptions, PutOptions, PutResult, Store } from './store.js';
import { expiryOf } from './put-options.js';
import { isCertificateError } from '../domain/network-failure.js';

/**
 * The largest value the etcd store accepts. etcd refuses any request over its --max-request-bytes (1.5 MiB
 * by default); a transaction carries the value once plus the key (twice), the envelope and the compares.
 * 16 KiB of room covers keys of any length storeKey() builds. Checked before sending, so nothing is written.
 */
export const ETCD_MAX_VALUE_BYTES = 1536 * 1024 - 16 * 1024;

const ENTRY_TAG = 'acmectl-entry:1:';
/** Expiry field of an entry written without ttlMs: later than any real instant. */
const NEVER = '9'.repeat(16);
/** Keys fetched per page when listing, and per transaction when fetching the TTL entries of a listing. */
const LIST_PAGE_KEYS = 1000;
const LIST_VALUES_PER_TXN = 64; // etcd's --max-txn-ops defaults to 128

/** Opens the etcd store: checks that the cluster answers (and logs in, with a user) before returning it. */
export async function openEtcdStore(config: EtcdStoreConfig): Promise<Store> {
  return EtcdStore.open(config);
}

/**
 * A Store in an etcd cluster. `kind` 'etcd', shared by every host that opens the same URL.
 *
 * Concurrency: every conditional write is one etcd transaction. Requests go to the first endpoint that
 * answers; when one cannot be reached the next is tried (for writes only when the request never left, so a
 * compare-and-set is never sent twice). Failures become OperationErrors naming the store by its redacted
 * URL; the password and the auth token never appear in any message.
 */
export class EtcdStore implements Store {
  readonly kind = 'etcd';
  readonly shared = true;

  readonly #config: EtcdStoreConfig;
  readonly #gateway: EtcdGateway;
  readonly #leases: LeaseKeeper;
  readonly #entryPrefix: string;
  readonly #lockPrefix: string;
  /** etcd lease of each lock lease this process holds, by owner id: refresh keeps it alive, release revokes it. */
  readonly #lockLeaseIds = new Map<string, string>();
  #closed = false;

  private constructor(config: EtcdStoreConfig) {
    this.#config = config;
    this.#gateway = new EtcdGateway(config);
    this.#entryPrefix = `${config.prefix}kv/`;
    this.#lockPrefix = `${config.prefix}locks/`;
    const primitives: LeasePrimitives = {
      acquire: (name, owner, ttlMs) => this.#run('take a lock', () => this.#acquireLock(name, owner, ttlMs)),
      renew: (name, owner, _fence, ttlMs) => this.#run('refresh a lock', () => this.#renewLock(name, owner, ttlMs)),
      release: (name, owner) => this.#run('release a lock', () => this.#releaseLock(name, owner)),
    };
    this.#leases = new LeaseKeeper(primitives);
  }

  /**
   * Opens the store and reads one key (logging in first when a user is configured), so that an unreachable
   * cluster, a wrong password or an untrusted certificate is reported at once rather than mid-operation.
   */
  static async open(config: EtcdStoreConfig): Promise<EtcdStore> {
    const store = new EtcdStore(config);
    try {
      await store.#run('connect', async () => {
        await store.#gateway.login();
        await store.#gateway.range({ key: encodeKey(config.prefix), keys_only: true, limit: 1 });
      });
      return store;
    } catch (error) {
      store.#gateway.close();
      throw error;
    }
  }

  async get(key: string): Promise<Entry | null> {
    return this.#run('read', async () => {
      const response = await this.#gateway.range({ key: encodeKey(this.#entryPrefix + key) });
      const kv = response.kvs?.[0];
      if (kv === undefined) return null;
      const envelope = openEnvelope(kv, key);
      if (envelope.expiresAt !== undefined && envelope.expiresAt <= Date.now()) return null;
      const entry: Entry = { value: envelope.value, rev: revisionOf(kv) };
      if (envelope.expiresAt !== undefined) entry.expiresAt = envelope.expiresAt;
      return entry;
    });
  }

  async put(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.#checkOpen();
    const now = Date.now();
    const expiresAt = expiryOf(options, now);
    if (value.byteLength > ETCD_MAX_VALUE_BYTES) {
      throw new OperationError(
        `etcd store ${this.#config.display}: the value for "${key}" is too large: ${value.byteLength} bytes, ` +
          `the limit is ${ETCD_MAX_VALUE_BYTES} bytes (etcd refuses requests over 1.5 MiB by default)`,
      );
    }
    let ifRev: string | undefined;
    if (options.ifRev !== undefined) {
      ifRev = parseRevision(options.ifRev);
      if (ifRev === undefined) return { ok: false }; // not one of our revisions: it cannot match
    }
    return this.#run('write', async () => {
      const etcdKey = encodeKey(this.#entryPrefix + key);
      // Copied into base64 here, so the caller may reuse its buffer as soon as put() returns.
      const stored = sealEnvelope(value, expiresAt);
      const leaseId = expiresAt === undefined ? undefined : await this.#gateway.grantLease(options.ttlMs!);
      const put: PutRequest = { key: etcdKey, value: stored, ...(leaseId === undefined ? {} : { lease: leaseId }) };

      let written: string | undefined;
      if (options.ifAbsent === true) {
        written = await this.#createOnly(put, now);
      } else if (ifRev !== undefined) {
        const response = await this.#gateway.txn({
          compare: [
            { key: etcdKey, target: 'MOD', result: 'EQUAL', mod_revision: ifRev },
            liveAt(etcdKey, now),
          ],
          success: [{ request_put: put }],
        });
        written = response.succeeded === true ? headerRevision(response) : undefined;
      } else {
        written = headerRevision(await this.#gateway.put(put));
      }
      if (written === undefined) {
        if (leaseId !== undefined) await this.#gateway.revokeLeaseQuietly(leaseId);
        return { ok: false } as const;
      }
      return { ok: true, rev: written } as const;
    });
  }

  /**
   * Create-only write: when the key does not exist; or when it exists but has expired and its etcd lease
   * has not reaped it yet, by a compare-and-set on the expired version (so two hosts racing over the same
   * expired entry cannot both win). Resolves the new revision, or undefined when a live entry is there.
   */
  async #createOnly(put: PutRequest, now: number): Promise<string | undefined> {
    const absent = await this.#gateway.txn({
      compare: [{ key: put.key, target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
      success: [{ request_put: put }],
      failure: [{ request_range: { key: put.key, keys_only: true } }],
    });
    if (absent.succeeded === true) return headerRevision(absent);
    const existing = absent.responses?.[0]?.response_range?.kvs?.[0];
    // Only entries written with a TTL carry a lease; one without can never have expired.
    if (existing === undefined || (existing.lease ?? '0') === '0') return undefined;
    const overExpired = await this.#gateway.txn({
      compare: [
        { key: put.key, target: 'MOD', result: 'EQUAL', mod_revision: revisionOf(existing) },
        expiredAt(put.key, now),
      ],
      success: [{ request_put: put }],
    });
    return overExpired.succeeded === true ? headerRevision(overExpired) : undefined;
  }

  async delete(key: string, options: { ifRev?: string } = {}): Promise<boolean> {
    this.#checkOpen();
    let ifRev: string | undefined;
    if (options.ifRev !== undefined) {
      ifRev = parseRevision(options.ifRev);
      if (ifRev === undefined) return false;
    }
    return this.#run('delete', async () => {
      const etcdKey = encodeKey(this.#entryPrefix + key);
      const compare: Compare[] = [liveAt(etcdKey, Date.now())];
      if (ifRev !== undefined) compare.push({ key: etcdKey, target: 'MOD', result: 'EQUAL', mod_revision: ifRev });
      const response = await this.#gateway.txn({ compare, success: [{ request_delete_range: { key: etcdKey } }] });
      return response.succeeded === true && Number(response.responses?.[0]?.response_delete_range?.deleted ?? '0') > 0;
    });
  }

  /**
   * Live keys starting with `prefix` (compared as bytes: an etcd range from the prefix to the prefix with
   * its last byte incremented, so no character acts as a pattern), in UTF-8 byte order, as of one etcd
   * revision. The listing reads keys only; just the entries that carry a lease (TTL entries) are fetched
   * whole, to check their expiry. Everything is read before the first key is yielded.
   */
  async *list(prefix: string): AsyncIterable<string> {
    const keys = await this.#run('list', async () => {
      const start = Buffer.from(this.#entryPrefix + prefix, 'utf8');
      const rangeEnd = encodeBytes(prefixEnd(start));
      const permanent: string[] = [];
      const leased: Buffer[] = [];
      let from = start;
      let revision: string | undefined;
      for (;;) {
        const page = await this.#gateway.range({
          key: encodeBytes(from),
          range_end: rangeEnd,
          keys_only: true,
          limit: LIST_PAGE_KEYS,
          ...(revision === undefined ? {} : { revision }),
        });
        revision ??= headerRevision(page);
        const kvs = page.kvs ?? [];
        for (const kv of kvs) {
          const etcdKey = Buffer.from(kv.key, 'base64');
          if ((kv.lease ?? '0') === '0') permanent.push(this.#entryKeyOf(etcdKey));
          else leased.push(etcdKey);
        }
        if (page.more !== true || kvs.length === 0) break;
        from = Buffer.concat([Buffer.from(kvs[kvs.length - 1]!.key, 'base64'), Buffer.from([0])]);
      }
      const live = await this.#liveAmong(leased, revision);
      return [...permanent, ...live].sort(compareUtf8);
    });
    yield* keys;
  }

  /** The store keys of those `etcdKeys` whose envelope has not expired, read at `revision`. */
  async #liveAmong(etcdKeys: Buffer[], revision: string | undefined): Promise<string[]> {
    const now = Date.now();
    const live: string[] = [];
    for (let i = 0; i < etcdKeys.length; i += LIST_VALUES_PER_TXN) {
      const chunk = etcdKeys.slice(i, i + LIST_VALUES_PER_TXN);
      const response = await this.#gateway.txn({
        success: chunk.map((etcdKey) => ({
          request_range: { key: encodeBytes(etcdKey), ...(revision === undefined ? {} : { revision }) },
        })),
      });
      for (const answer of response.responses ?? []) {
        const kv = answer.response_range?.kvs?.[0];
        if (kv === undefined) continue;
        const key = this.#entryKeyOf(Buffer.from(kv.key, 'base64'));
        const { expiresAt } = openEnvelope(kv, key);
        if (expiresAt === undefined || expiresAt > now) live.push(key);
      }
    }
    return live;
  }

  async lock(name: string, options: LockOptions): Promise<Lease | null> {
    this.#checkOpen();
    return this.#leases.lock(name, options);
  }

  /** Releases held leases, then the connections. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#leases.close();
    this.#closed = true;
    this.#gateway.close();
  }

  /**
   * Takes the lock when its record is absent, or present but expired (compare-and-set on that expired
   * version). The record is attached to a fresh etcd lease so that a crashed holder's record disappears by
   * itself; a live record answers null without granting anything. When the compare fails because the
   * record changed between the read and the transaction, it reads again (a few times at most) and answers
   * null only for a live holder.
   */
  async #acquireLock(name: string, owner: string, ttlMs: number): Promise<bigint | null> {
    const etcdKey = encodeKey(this.#lockPrefix + name);
    let leaseId: string | undefined;
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const now = Date.now();
        const current = (await this.#gateway.range({ key: etcdKey })).kvs?.[0];
        let condition: Compare;
        if (current === undefined) {
          condition = { key: etcdKey, target: 'CREATE', result: 'EQUAL', create_revision: '0' };
        } else {
          if (lockExpiryOf(current) > now) return null;
          condition = { key: etcdKey, target: 'MOD', result: 'EQUAL', mod_revision: revisionOf(current) };
        }
        leaseId ??= await this.#gateway.grantLease(ttlMs);
        const response = await this.#gateway.txn({
          compare: [condition],
          success: [{ request_put: { key: etcdKey, value: lockRecord(owner, now + ttlMs), lease: leaseId } }],
        });
        if (response.succeeded === true) {
          this.#lockLeaseIds.set(owner, leaseId);
          const fence = BigInt(headerRevision(response));
          leaseId = undefined; // ours now: not revoked below
          return fence;
        }
      }
      return null;
    } finally {
      if (leaseId !== undefined) await this.#gateway.revokeLeaseQuietly(leaseId);
    }
  }

  /**
   * Extends the record to now + ttlMs only while it is still `owner`'s and unexpired (two byte-range
   * compares on the value: it starts with "<owner> " and its expiry digits are past `now`), then keeps the
   * etcd lease alive. The owner id is random per lease, so it identifies the fence as well.
   */
  async #renewLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const leaseId = this.#lockLeaseIds.get(owner);
    if (leaseId === undefined) return false;
    const etcdKey = encodeKey(this.#lockPrefix + name);
    const now = Date.now();
    const response = await this.#gateway.txn({
      compare: [
        { key: etcdKey, target: 'VALUE', result: 'GREATER', value: encodeText(`${owner} ${expiryDigits(now)}`) },
        { key: etcdKey, target: 'VALUE', result: 'LESS', value: encodeText(`${owner}!`) },
      ],
      success: [{ request_put: { key: etcdKey, value: lockRecord(owner, now + ttlMs), lease: leaseId } }],
    });
    if (response.succeeded !== true) return false;
    // After the write, so the lease (whole seconds >= ttlMs) outlives the record's new expiry.
    return this.#gateway.keepLeaseAlive(leaseId);
  }

  /** Deletes the record only while it is `owner`'s, expired or not; then revokes owner's etcd lease. */
  async #releaseLock(name: string, owner: string): Promise<boolean> {
    const etcdKey = encodeKey(this.#lockPrefix + name);
    const response = await this.#gateway.txn({
      compare: [
        { key: etcdKey, target: 'VALUE', result: 'GREATER', value: encodeText(`${owner} `) },
        { key: etcdKey, target: 'VALUE', result: 'LESS', value: encodeText(`${owner}!`) },
      ],
      success: [{ request_delete_range: { key: etcdKey } }],
    });
    const leaseId = this.#lockLeaseIds.get(owner);
    this.#lockLeaseIds.delete(owner);
    // A later holder's record hangs on that holder's own etcd lease, so revoking ours never touches it.
    if (leaseId !== undefined) await this.#gateway.revokeLeaseQuietly(leaseId);
    return response.succeeded === true;
  }

  #entryKeyOf(etcdKey: Buffer): string {
    return etcdKey.toString('utf8').slice(this.#entryPrefix.length);
  }

  /** Runs one store operation, turning etcd and network failures into an OperationError naming the store. */
  async #run<T>(operation: string, step: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    try {
      return await step();
    } catch (error) {
      if (error instanceof AcmectlError || error instanceof TypeError || error instanceof RangeError) throw error;
      throw new OperationError(`etcd store ${this.#config.display}: could not ${operation}: ${describeError(error)}`, {
        cause: error,
        hint: hintFor(error, this.#config),
      });
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('the etcd store is closed');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Values: the entry envelope and the lock record.

interface Envelope {
  value: Uint8Array;
  expiresAt: number | undefined;
}

function expiryDigits(epochMs: number): string {
  return String(epochMs).padStart(16, '0');
}

/** base64 of tag + expiry digits + "\n" + value. */
function sealEnvelope(value: Uint8Array, expiresAt: number | undefined): string {
  const header = Buffer.from(`${ENTRY_TAG}${expiresAt === undefined ? NEVER : expiryDigits(expiresAt)}\n`, 'latin1');
  return Buffer.concat([header, value]).toString('base64');
}

const ENVELOPE_HEADER = new RegExp(`^${ENTRY_TAG}(\\d{16})\\n`);
const ENVELOPE_HEADER_BYTES = ENTRY_TAG.length + 17;

function openEnvelope(kv: KeyValue, key: string): Envelope {
  const stored = Buffer.from(kv.value ?? '', 'base64');
  const match = ENVELOPE_HEADER.exec(stored.subarray(0, ENVELOPE_HEADER_BYTES).toString('latin1'));
  if (match === null) {
    throw new EtcdDataError(`the etcd key for "${key}" holds a value acmectl did not write`);
  }
  const digits = match[1]!;
  const body = stored.subarray(ENVELOPE_HEADER_BYTES);
  return {
    value: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    expiresAt: digits === NEVER ? undefined : Number(digits),
  };
}

/** Compare: the entry's envelope expiry is after `now`. False for a missing key (etcd fails VALUE compares on it). */
function liveAt(etcdKey: string, now: number): Compare {
  return { key: etcdKey, target: 'VALUE', result: 'GREATER', value: encodeText(`${ENTRY_TAG}${expiryDigits(now)}\x7f`) };
}

/** Compare: the entry's envelope expiry is at or before `now` ("\n" after the digits sorts before "\x7f"). */
function expiredAt(etcdKey: string, now: number): Compare {
  return { key: etcdKey, target: 'VALUE', result: 'LESS', value: encodeText(`${ENTRY_TAG}${expiryDigits(now)}\x7f`) };
}

function lockRecord(owner: string, expiresAt: number): string {
  return encodeText(`${owner} ${expiryDigits(expiresAt)}`);
}

/** Expiry of a lock record; 0 (long expired) for a record this version cannot read, so it can be taken over. */
function lockExpiryOf(kv: KeyValue): number {
  const match = /^\S+ (\d{16})$/.exec(Buffer.from(kv.value ?? '', 'base64').toString('latin1'));
  return match === null ? 0 : Number(match[1]);
}


/** Our revisions are etcd revisions: positive int64 in decimal. Anything else can never match one. */
function parseRevision(rev: string): string | undefined {
  return /^[1-9][0-9]{0,17}$/.test(rev) ? rev : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Keys and the JSON shapes of the gateway. etcd's JSON carries keys and values in base64, int64 fields as
// strings, and leaves out every field at its zero value (an empty value, lease 0, `succeeded: false`).

function encodeKey(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64');
}

function encodeText(text: string): string {
  return Buffer.from(text, 'latin1').toString('base64');
}

function encodeBytes(bytes: Buffer): string {
  return bytes.toString('base64');
}

/** The smallest key greater than every key starting with `prefix` (etcd's range_end for a prefix). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all 0xff: to the end of the keyspace
}

function revisionOf(kv: KeyValue): string {
  if (kv.mod_revision === undefined) throw new EtcdDataError('etcd answered a key without its mod_revision');
  return kv.mod_revision;
}

function headerRevision(response: { header?: ResponseHeader }): string {
  const revision = response.header?.revision;
  if (revision === undefined) throw new EtcdDataError('etcd answered without a revision in its header');
  return revision;
}

interface ResponseHeader {
  revision?: string;
}

interface KeyValue {
  key: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  lease?: string;
}

interface RangeRequest {
  key: string;
  range_end?: string;
  limit?: number;
  revision?: string;
  keys_only?: boolean;
}

interface RangeResponse {
  header?: ResponseHeader;
  kvs?: KeyValue[];
  more?: boolean;
}

interface PutRequest {
  key: string;
  value: string;
  lease?: string;
}

interface Compare {
  key: string;
  target: 'CREATE' | 'MOD' | 'VALUE';
  result: 'EQUAL' | 'GREATER' | 'LESS';
  create_revision?: string;
  mod_revision?: string;
  value?: string;
}

type RequestOp =
  | { request_range: RangeRequest }
  | { request_put: PutRequest }
  | { request_delete_range: { key: string } };

interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

interface TxnResponse {
  header?: ResponseHeader;
  /** Left out (not false) when the compares failed. */
  succeeded?: boolean;
  responses?: Array<{
    response_range?: RangeResponse;
    response_put?: { header?: ResponseHeader };
    response_delete_range?: { deleted?: string };
  }>;
}

// ---------------------------------------------------------------------------------------------------------
// The gateway client.

/** etcd answered with an error (its JSON carries the gRPC status code and message). */
class EtcdServerError extends Error {
  readonly grpcCode: number | undefined;
  readonly httpStatus: number;
  constructor(message: string, grpcCode: number | undefined, httpStatus: number) {
    super(message);
    this.name = 'EtcdServerError';
    this.grpcCode = grpcCode;
    this.httpStatus = httpStatus;
  }
}

/** etcd's answer made no sense for acmectl (a foreign value under our prefix, a field missing). */
class EtcdDataError extends Error {
  override name = 'EtcdDataError';
}

/** No endpoint answered; `failures` has one line per endpoint tried. */
class EtcdUnreachableError extends Error {
  override name = 'EtcdUnreachableError';
  readonly failures: NetworkFailure[];
  constructor(failures: NetworkFailure[]) {
    super(failures.map((failure) => failure.message).join('; '));
    this.failures = failures;
  }
}

/**
 * One request that failed below HTTP. `sent` is false when the connection never came up; `reusedConnection`
 * is true when it went over a kept-alive connection, which the server may have closed before it arrived.
 */
class NetworkFailure extends Error {
  override name = 'NetworkFailure';
  readonly code: string | undefined;
  readonly sent: boolean;
  readonly reusedConnection: boolean;
  constructor(endpoint: string, cause: unknown, sent: boolean, reusedConnection: boolean) {
    super(`${endpoint}: ${describeError(cause)}`, { cause });
    this.code = codeOf(cause);
    this.sent = sent;
    this.reusedConnection = reusedConnection;
  }
}

class RequestTimeout extends Error {
  override name = 'RequestTimeout';
  readonly code = 'ETIMEDOUT';
}

/** Errors from which connecting to the next endpoint is safe even for a write: nothing reached the server. */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const GRPC_UNAVAILABLE = 14;
const GRPC_UNAUTHENTICATED = 16;

/**
 * POSTs JSON to the cluster's gateway, one endpoint at a time, and logs in when a user is configured.
 * Reads (and other requests that may safely run twice) move on to the next endpoint on any failure; writes
 * only when the connection never came up. The endpoint that answered last is tried first next time.
 */
class EtcdGateway {
  readonly #config: EtcdStoreConfig;
  readonly #agent: HttpAgent | HttpsAgent;
  #preferred = 0;
  #token: string | undefined;
  #login: Promise<void> | undefined;

  constructor(config: EtcdStoreConfig) {
    this.#config = config;
    const tls = config.endpoints[0]?.startsWith('https:') === true;
    this.#agent = tls
      ? new HttpsAgent({
          keepAlive: true,
          rejectUnauthorized: config.tlsVerify,
          ...(config.servername === undefined ? {} : { servername: config.servername }),
          // `ca` replaces Node's roots, so the --ca-bundle is added to them rather than put in their place.
          ...(config.caBundlePem === undefined ? {} : { ca: [...rootCertificates, config.caBundlePem] }),
        })
      : new HttpAgent({ keepAlive: true });
  }

  range(request: RangeRequest): Promise<RangeResponse> {
    return this.#call('/v3/kv/range', request, true);
  }

  /** A plain put: running it twice leaves the same value, so it may be retried elsewhere. */
  put(request: PutRequest): Promise<{ header?: ResponseHeader }> {
    return this.#call('/v3/kv/put', request, true);
  }

  txn(request: TxnRequest): Promise<TxnResponse> {
    const readOnly = (request.success ?? []).every((op) => 'request_range' in op) && request.failure === undefined;
    return this.#call('/v3/kv/txn', request, readOnly);
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
    this.#agent.destroy();
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
      );
      if (response.token === undefined) throw new EtcdDataError('etcd answered the login without a token');
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

  async #call<T>(path: string, body: object, idempotent: boolean): Promise<T> {
    await this.login();
    const token = this.#token;
    try {
      return await this.#send<T>(path, body, idempotent, token);
    } catch (error) {
      // Simple tokens expire after --auth-token-ttl (5 min) idle, and a restarted member forgets them. The
      // request was refused before it was applied, so sending it again after logging in is safe.
      if (this.#config.credentials !== undefined && error instanceof EtcdServerError && error.grpcCode === GRPC_UNAUTHENTICATED) {
        await this.#relogin(token);
        return this.#send<T>(path, body, idempotent, this.#token);
      }
      throw error;
    }
  }

  async #send<T>(path: string, body: object, idempotent: boolean, token: string | undefined): Promise<T> {
    const json = JSON.stringify(body);
    const endpoints = this.#config.endpoints;
    const failures: NetworkFailure[] = [];
    let freshConnectionTried = false;
    for (let attempt = 0; attempt < endpoints.length; attempt++) {
      const index = (this.#preferred + attempt) % endpoints.length;
      const endpoint = endpoints[index]!;
      let answer: { status: number; text: string };
      try {
        answer = await postJson(new URL(path, endpoint), json, token, this.#agent, this.#config.timeoutMs, endpoint);
      } catch (error) {
        if (!(error instanceof NetworkFailure)) throw error;
        // A kept-alive connection the server had already closed (it restarted, or timed the connection
        // out): the same member deserves one more try on a new connection.
        if (error.reusedConnection && idempotent && !freshConnectionTried) {
          freshConnectionTried = true;
          attempt--;
          continue;
        }
        failures.push(error);
        if (idempotent || !error.sent) continue;
        throw error;
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

function parseAnswer(answer: { status: number; text: string }, path: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    parsed = undefined;
  }
  if (answer.status === 200 && typeof parsed === 'object' && parsed !== null) return parsed;
  const error = parsed as { message?: unknown; error?: unknown; code?: unknown } | undefined;
  const message = typeof error?.message === 'string' ? error.message : typeof error?.error === 'string' ? error.error : undefined;
  if (message !== undefined) {
    return new EtcdServerError(message, typeof error?.code === 'number' ? error.code : undefined, answer.status);
  }
  const excerpt = answer.text.replace(/\s+/g, ' ').trim().slice(0, 120);
  return new EtcdServerError(
    `unexpected answer from ${path} (HTTP ${answer.status}${excerpt === '' ? '' : `: ${excerpt}`}); is this etcd 3.4 or later?`,
    undefined,
    answer.status,
  );
}

/**
 * One POST with a deadline of `timeoutMs` for the whole exchange. Failures below HTTP become a
 * NetworkFailure that says whether the connection had come up (and so whether the request may have been
 * received).
 */
function postJson(
  target: URL,
  body: string,
  token: string | undefined,
  agent: HttpAgent | HttpsAgent,
  timeoutMs: number,
  endpoint: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let connected = false;
    let reusedConnection = false;
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    if (token) headers.authorization = token;
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(target, { method: 'POST', agent, headers });
    const fail = (error: unknown): void => {
      clearTimeout(timer);
      const neverConnected = !connected || NOT_CONNECTED_CODES.has(codeOf(error) ?? '');
      reject(new NetworkFailure(endpoint, error, !neverConnected, reusedConnection));
    };
    const timer = setTimeout(() => {
      request.destroy(new RequestTimeout(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    request.on('socket', (socket) => {
      if (!socket.connecting) {
        connected = true;
        reusedConnection = true;
      } else socket.once('connect', () => (connected = true));
    });
    request.on('error', fail);
    request.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('aborted', () => fail(new Error('the connection closed in the middle of the answer')));
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.end(body);
  });
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A one-line description; Node's multi-address connect errors (AggregateError) have an empty message. */
function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    const inner = error.errors.map((item) => describeError(item));
    return [...new Set(inner)].join(', ') || codeOf(error) || 'connection failed';
  }
  if (error instanceof Error) return error.message || codeOf(error) || error.name;
  return String(error);
}

function hintFor(error: unknown, config: EtcdStoreConfig): string | undefined {
  const endpoints = config.endpoints.join(', ');
  if (error instanceof EtcdUnreachableError) {
    const codes = error.failures.map((failure) => failure.code ?? codeOf(failure.cause) ?? '');
    if (codes.some(isCertificateError)) {
      return 'the server certificate is not trusted: pass --ca-bundle FILE with your CA, or ?servername=NAME when it names another host';
    }
    if (codes.includes('ETIMEDOUT')) {
      return `no answer within ${config.timeoutMs} ms from ${endpoints}: check the network, or raise ?timeout=`;
    }
    return `check that etcd is running and reachable at ${endpoints}, or fix the --store URL`;
  }
  if (error instanceof NetworkFailure) {
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
