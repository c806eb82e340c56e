/**
 * The etcd store: etcd v3 through its JSON gRPC gateway (`POST /v3/kv/range`, `/v3/kv/txn`, ...) with the
 * stores' HTTP client (../http/client.ts; the calls are in gateway.ts), so no gRPC stack is needed. Works with etcd 3.4 and later (3.3 served the gateway at
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
 * clocks that agree to well within a TTL (`acmectl doctor` checks the clock).
 *
 * Revisions are the key's mod_revision: etcd revisions are cluster-wide and never reused, so a revision
 * never repeats for a key, even after delete and re-create. A lock's fencing token is the revision of the
 * write that acquired it, which is greater than every revision before it, so tokens strictly increase per
 * name (and across names) forever.
 */
import { compareUtf8 } from '../../domain/compare-utf8.js';
import { StoreBackend, type FailureDescription } from '../backend.js';
import { describeError } from '../../net/error-text.js';
import { StoreErrors } from '../errors.js';
import { LIST_ANSWER_BYTES } from '../../net/http-client.js';
import { expiryOf } from '../put-options.js';
import { isRevision } from '../revision.js';
import type { Entry, KeyedEntry, PutOptions, PutResult, Store } from '../store.js';
import { ENTRY_ANSWER_BYTES, EtcdGateway, etcdHint } from './gateway.js';
import { encodeBytes, encodeKey, encodeText, headerRevision, prefixEnd, revisionOf, type Compare, type PutRequest } from './protocol.js';
import { expiredAt, expiryDigits, liveAt, lockExpiryOf, lockRecord, openEnvelope, sealEnvelope } from './records.js';
import type { EtcdStoreConfig } from './url.js';

/**
 * The largest value the etcd store accepts. etcd refuses any request over its --max-request-bytes (1.5 MiB
 * by default); a transaction carries the value once plus the key (twice), the envelope and the compares.
 * 16 KiB of room covers keys of any length storeKey() builds. Checked before sending, so nothing is written.
 */
export const ETCD_MAX_VALUE_BYTES = 1536 * 1024 - 16 * 1024;

/** Keys fetched per page when listing, and per transaction when fetching the TTL entries of a listing. */
const LIST_PAGE_KEYS = 1000;
const LIST_VALUES_PER_TXN = 64; // etcd's --max-txn-ops defaults to 128
/** Entries per range read of entries(): the answer's cap grows with it (ENTRY_ANSWER_BYTES each). */
const ENTRIES_PER_PAGE = 64;
/** etcd revisions are int64: up to 18 decimal digits here (more than any cluster will reach). */
const ETCD_REVISION_DIGITS = 18;

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
export class EtcdStore extends StoreBackend {
  readonly kind = 'etcd';
  readonly shared = true;

  readonly #config: EtcdStoreConfig;
  readonly #gateway: EtcdGateway;
  readonly #entryPrefix: string;
  readonly #lockPrefix: string;
  /** etcd lease of each lock lease this process holds, by owner id: refresh keeps it alive, release revokes it. */
  readonly #lockLeaseIds = new Map<string, string>();

  private constructor(config: EtcdStoreConfig) {
    const errors = new StoreErrors('etcd', config.display);
    errors.secrets.add(config.credentials?.password);
    super(errors);
    this.#config = config;
    this.#gateway = new EtcdGateway(config, errors.secrets);
    this.#entryPrefix = `${config.prefix}kv/`;
    this.#lockPrefix = `${config.prefix}locks/`;
  }

  /**
   * Opens the store and reads one key (logging in first when a user is configured), so that an unreachable
   * cluster, a wrong password or an untrusted certificate is reported at once rather than mid-operation.
   */
  static async open(config: EtcdStoreConfig): Promise<EtcdStore> {
    const store = new EtcdStore(config);
    try {
      await store.run('connect', async () => {
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
    return this.run('read', async () => {
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
    this.checkOpen();
    const now = Date.now();
    const expiresAt = expiryOf(options, now);
    if (value.byteLength > ETCD_MAX_VALUE_BYTES) {
      throw this.errors.failure(
        `write ${key}`,
        `the value is too large: ${value.byteLength} bytes, the limit is ${ETCD_MAX_VALUE_BYTES} bytes ` +
          '(etcd refuses requests over 1.5 MiB by default)',
      );
    }
    const ifRev = options.ifRev;
    if (ifRev !== undefined && !isRevision(ifRev, ETCD_REVISION_DIGITS)) return { ok: false }; // cannot match
    return this.run('write', async () => {
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
    this.checkOpen();
    const ifRev = options.ifRev;
    if (ifRev !== undefined && !isRevision(ifRev, ETCD_REVISION_DIGITS)) return false;
    return this.run('delete', async () => {
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
    const keys = await this.run('list', async () => {
      const start = Buffer.from(this.#entryPrefix + prefix, 'utf8');
      const rangeEnd = encodeBytes(prefixEnd(start));
      const permanent: string[] = [];
      const leased: Buffer[] = [];
      let from = start;
      let revision: string | undefined;
      for (;;) {
        const page = await this.#gateway.range(
          {
            key: encodeBytes(from),
            range_end: rangeEnd,
            keys_only: true,
            limit: LIST_PAGE_KEYS,
            ...(revision === undefined ? {} : { revision }),
          },
          LIST_ANSWER_BYTES,
        );
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

  /**
   * The live entries under `prefix`: range reads with values, ENTRIES_PER_PAGE at a time, every page at the
   * revision of the first (one consistent view, as list()).
   */
  override async *entries(prefix: string): AsyncIterable<KeyedEntry> {
    const start = Buffer.from(this.#entryPrefix + prefix, 'utf8');
    const rangeEnd = encodeBytes(prefixEnd(start));
    let from = start;
    let revision: string | undefined;
    for (;;) {
      const page = await this.run('read', () =>
        this.#gateway.range({ key: encodeBytes(from), range_end: rangeEnd, limit: ENTRIES_PER_PAGE, ...(revision === undefined ? {} : { revision }) }, ENTRIES_PER_PAGE * ENTRY_ANSWER_BYTES),
      );
      revision ??= headerRevision(page);
      const kvs = page.kvs ?? [];
      const now = Date.now();
      for (const kv of kvs) {
        const key = this.#entryKeyOf(Buffer.from(kv.key, 'base64'));
        const envelope = openEnvelope(kv, key);
        if (envelope.expiresAt !== undefined && envelope.expiresAt <= now) continue;
        const entry: Entry = { value: envelope.value, rev: revisionOf(kv) };
        if (envelope.expiresAt !== undefined) entry.expiresAt = envelope.expiresAt;
        yield { key, entry };
      }
      if (page.more !== true || kvs.length === 0) return;
      from = Buffer.concat([Buffer.from(kvs[kvs.length - 1]!.key, 'base64'), Buffer.from([0])]);
    }
  }

  /** The store keys of those `etcdKeys` whose envelope has not expired, read at `revision`. */
  async #liveAmong(etcdKeys: Buffer[], revision: string | undefined): Promise<string[]> {
    const now = Date.now();
    const live: string[] = [];
    for (let i = 0; i < etcdKeys.length; i += LIST_VALUES_PER_TXN) {
      const chunk = etcdKeys.slice(i, i + LIST_VALUES_PER_TXN);
      const response = await this.#gateway.txn(
        {
          success: chunk.map((etcdKey) => ({
            request_range: { key: encodeBytes(etcdKey), ...(revision === undefined ? {} : { revision }) },
          })),
        },
        // Each range holds one entry at most.
        chunk.length * ENTRY_ANSWER_BYTES,
      );
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

  /** Closes the connections (the leases are released by then). */
  protected disconnect(): void {
    this.#gateway.close();
  }

  /**
   * Takes the lock when its record is absent, or present but expired (compare-and-set on that expired
   * version). The record is attached to a fresh etcd lease so that a crashed holder's record disappears by
   * itself; a live record answers null without granting anything. When the compare fails because the
   * record changed between the read and the transaction, it reads again (a few times at most) and answers
   * null only for a live holder.
   */
  protected async acquireLock(name: string, owner: string, ttlMs: number): Promise<bigint | null> {
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
  protected async renewLock(name: string, owner: string, _fence: bigint, ttlMs: number): Promise<boolean> {
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
  protected async releaseLock(name: string, owner: string): Promise<boolean> {
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

  protected override describeFailure(error: unknown): FailureDescription {
    return { detail: describeError(error), hint: etcdHint(error, this.#config) };
  }
}
