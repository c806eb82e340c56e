/**
 * The Vault store: acmectl's entries and locks as secrets in a KV version 2 secrets engine, spoken to over
 * Vault's documented HTTP API (the calls are in api.ts; no client library). `shared`: every host pointing at the
 * same mount and path sees the same data.
 *
 * Layout inside MOUNT under PATH PREFIX (defaults `secret`, `acmectl/`):
 *   <prefix>entries/<key>   one secret per store key: {value: <base64>, expiresAt?: <epoch ms>},
 *                           or the tombstone {deleted: true} that a delete writes
 *   <prefix>locks/<name>    one secret per lock: {owner, fence, expiresAt} while held, {released: true, fence} after
 *
 * Revisions are KV versions. Metadata is never deleted, on purpose: versions only grow for a key, but deleting a
 * key's metadata restarts it at version 1, and check-and-set (`options.cas`) compares nothing but the version —
 * a revision taken before such a delete would match an unrelated later entry. So a delete here is a
 * check-and-set write of a tombstone (atomic like every other write; Vault's own soft delete cannot be made
 * conditional), and acmectl calls none of Vault's DELETE endpoints. The price is one metadata record per key ever
 * written (each HTTP-01 token leaves one), holding at most the mount's max_versions versions (default 10).
 * Removing metadata by hand (`vault kv metadata delete`) while acmectl runs can make a revision repeat.
 *
 * Every write carries `cas`, so mounts with cas_required work too. KV has no server-side expiry: TTLs and lock
 * leases are judged by the clocks of the hosts (keep them in sync with NTP); an expired entry is invisible at
 * once and overwritten with a tombstone the next time someone reads it.
 *
 * The policy acmectl needs (for the defaults):
 *   path "secret/data/acmectl/*"     { capabilities = ["create", "read", "update"] }
 *   path "secret/metadata/acmectl/*" { capabilities = ["list"] }
 */
import { compareUtf8 } from '../../domain/compare-utf8.js';
import { mapWithConcurrency } from '../../domain/concurrency.js';
import type { OperationError } from '../../domain/errors.js';
import { StoreBackend } from '../backend.js';
import { StoreErrors } from '../errors.js';
import { LIST_ANSWER_BYTES } from '../../net/http-client.js';
import { expiryOf } from '../put-options.js';
import { parseRevision } from '../revision.js';
import type { Entry, PutOptions, PutResult, Store } from '../store.js';
import { encodePathSegments } from '../http/path.js';
import { VaultApi, vaultErrors } from './api.js';
import { entryState, isRecord, isVersion, lockHolder, metadataVersion, TOMBSTONE, type LatestVersion } from './records.js';
import type { VaultStoreConfig } from './url.js';

/**
 * Largest value the store accepts. Values travel base64-encoded (4/3 of their size) and Vault's integrated
 * storage refuses entries over 1 MiB by default (max_entry_size), so 512 KiB leaves room for the envelope.
 */
export const VAULT_MAX_VALUE_BYTES = 512 * 1024;

/** How often a read-then-check-and-set step is retried when another writer got in between. */
const MAX_WRITE_ATTEMPTS = 10;
/** Liveness checks a list runs at once (one GET per listed key). */
const LIST_CONCURRENCY = 8;

/** Opens the vault store, logging in first for auth=approle / auth=kubernetes. The caller must close() it. */
export async function openVaultStore(config: VaultStoreConfig): Promise<Store> {
  const errors = new StoreErrors('Vault', config.display);
  const vault = new VaultApi(config, errors);
  try {
    await vault.logIn();
  } catch (error) {
    await vault.close();
    throw error;
  }
  return new VaultStore(config, vault, errors);
}

class VaultStore extends StoreBackend {
  readonly kind = 'vault';
  readonly shared = true;

  readonly #vault: VaultApi;
  readonly #mountPath: string;
  readonly #entriesRoot: string;
  readonly #locksRoot: string;
  /** Set once Vault refuses a housekeeping write (a read-only policy, e.g. for `acmectl serve`): stop trying. */
  #housekeepingRefused = false;

  constructor(config: VaultStoreConfig, vault: VaultApi, errors: StoreErrors) {
    super(errors);
    this.#vault = vault;
    this.#mountPath = encodePathSegments(config.mount);
    this.#entriesRoot = `${config.pathPrefix}entries/`;
    this.#locksRoot = `${config.pathPrefix}locks/`;
  }

  async get(key: string): Promise<Entry | null> {
    this.checkOpen();
    const path = this.#entriesRoot + key;
    const operation = `read ${key}`;
    const latest = await this.#readLatest(path, operation);
    const state = entryState(latest.data, Date.now());
    switch (state.kind) {
      case 'live': {
        const entry: Entry = { value: state.value, rev: String(latest.version) };
        if (state.expiresAt !== undefined) entry.expiresAt = state.expiresAt;
        return entry;
      }
      case 'expired':
        await this.#buryExpired(path, latest.version);
        return null;
      case 'foreign':
        throw this.#vault.failure(operation, 'the secret holds data acmectl did not write', {
          hint: `remove or move ${path} in Vault; acmectl keeps only its own data under that path`,
        });
      case 'absent':
        return null;
    }
  }

  async put(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.checkOpen();
    const expiresAt = expiryOf(options, Date.now());
    const operation = `write ${key}`;
    if (value.byteLength > VAULT_MAX_VALUE_BYTES) {
      throw this.#vault.failure(
        operation,
        `the value is too large for the Vault store: ${value.byteLength} bytes, the limit is ${VAULT_MAX_VALUE_BYTES} bytes (512 KiB)`,
        { hint: 'Vault stores values base64-encoded, and its integrated storage refuses entries over 1 MiB by default' },
      );
    }
    const path = this.#entriesRoot + key;
    // Encoding copies the bytes: the caller may reuse its buffer as soon as we return.
    const data: Record<string, unknown> = { value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
    if (expiresAt !== undefined) data.expiresAt = expiresAt;

    let version: number | null;
    if (options.ifRev !== undefined) {
      const expected = await this.#liveVersion(path, options.ifRev, operation);
      version = expected === undefined ? null : await this.#write(path, data, expected, operation);
    } else if (options.ifAbsent === true) {
      // A deleted or expired key still has a version: create-only is cas=<that version>, or 0 for a new key.
      const latest = await this.#readLatest(path, operation);
      const state = entryState(latest.data, Date.now()).kind;
      if (state === 'live' || state === 'foreign') return { ok: false };
      version = await this.#write(path, data, latest.version, operation);
    } else {
      version = await this.#overwrite(path, data, operation);
    }
    return version === null ? { ok: false } : { ok: true, rev: String(version) };
  }

  async delete(key: string, options: { ifRev?: string } = {}): Promise<boolean> {
    this.checkOpen();
    const path = this.#entriesRoot + key;
    const operation = `delete ${key}`;
    if (options.ifRev !== undefined) {
      const expected = await this.#liveVersion(path, options.ifRev, operation);
      return expected !== undefined && (await this.#write(path, TOMBSTONE, expected, operation)) !== null;
    }
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const latest = await this.#readLatest(path, operation);
      const state = entryState(latest.data, Date.now()).kind;
      if (state === 'expired') await this.#buryExpired(path, latest.version);
      if (state !== 'live' && state !== 'foreign') return false;
      if ((await this.#write(path, TOMBSTONE, latest.version, operation)) !== null) return true;
    }
    throw this.#contention(operation);
  }

  /**
   * Live keys starting with `prefix`, in UTF-8 byte order, as of the call. Vault lists one folder level at a
   * time (names ending in '/' are folders), so this walks down the folders that can hold matching keys, then
   * reads every candidate, because a listed key may be deleted (a tombstone) or expired.
   */
  async *list(prefix: string): AsyncIterable<string> {
    this.checkOpen();
    const operation = prefix === '' ? 'list every key' : `list keys starting with ${prefix}`;
    const split = prefix.lastIndexOf('/') + 1;
    const pending = [{ folder: prefix.slice(0, split), start: prefix.slice(split) }];
    const candidates: string[] = [];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      for (const name of await this.#listFolder(this.#entriesRoot + next.folder, operation)) {
        if (!name.startsWith(next.start)) continue;
        if (name.endsWith('/')) pending.push({ folder: next.folder + name, start: '' });
        else candidates.push(next.folder + name);
      }
    }
    const listed = await mapWithConcurrency(candidates, LIST_CONCURRENCY, async (key) => {
      const path = this.#entriesRoot + key;
      const latest = await this.#readLatest(path, operation);
      const state = entryState(latest.data, Date.now()).kind;
      if (state === 'expired') await this.#buryExpired(path, latest.version);
      return state === 'live' || state === 'foreign';
    });
    yield* candidates.filter((_, index) => listed[index]).sort(compareUtf8);
  }

  /** Revokes a token acmectl logged in for, and closes connections (the leases are released by then). */
  protected disconnect(): Promise<void> {
    return this.#vault.close();
  }

  // Lock records. The fence is the KV version of the write that took the lock: versions only grow, so fences do.

  protected async acquireLock(name: string, owner: string, ttlMs: number): Promise<bigint | null> {
    this.checkOpen();
    const path = this.#locksRoot + name;
    const operation = `take the lock ${name}`;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const latest = await this.#readLatest(path, operation);
      const holder = lockHolder(latest.data);
      if (holder !== null && holder.expiresAt > Date.now()) return null;
      const fence = latest.version + 1;
      const record = { owner, fence: String(fence), expiresAt: Date.now() + ttlMs };
      const version = await this.#write(path, record, latest.version, operation);
      if (version === fence) return BigInt(fence);
      if (version !== null) throw this.#vault.failure(operation, `Vault wrote version ${version} where ${fence} was due`);
      // Someone wrote in between (took it, or released an expired lease): look again.
    }
    return null;
  }

  protected async renewLock(name: string, owner: string, fence: bigint, ttlMs: number): Promise<boolean> {
    this.checkOpen();
    const path = this.#locksRoot + name;
    const operation = `refresh the lock ${name}`;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const latest = await this.#readLatest(path, operation);
      const holder = lockHolder(latest.data);
      if (holder === null || holder.owner !== owner || holder.fence !== String(fence) || holder.expiresAt <= Date.now()) {
        return false;
      }
      const record = { owner, fence: holder.fence, expiresAt: Date.now() + ttlMs };
      if ((await this.#write(path, record, latest.version, operation)) !== null) return true;
      // Only this holder writes a record it holds: the other writer was this holder's own concurrent refresh.
    }
    throw this.#contention(operation);
  }

  protected async releaseLock(name: string, owner: string, fence: bigint): Promise<boolean> {
    const path = this.#locksRoot + name;
    const operation = `release the lock ${name}`;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const latest = await this.#readLatest(path, operation);
      const holder = lockHolder(latest.data);
      if (holder === null || holder.owner !== owner || holder.fence !== String(fence)) return false;
      const record = { released: true, fence: holder.fence };
      if ((await this.#write(path, record, latest.version, operation)) !== null) return true;
    }
    throw this.#contention(operation);
  }

  /**
   * The version `rev` names when it is the key's live latest version, else undefined. Check-and-set alone
   * cannot tell: Vault's cas matches a version that expired or that an operator soft-deleted just the same.
   * The cas write that follows still decides atomically whether anyone else wrote in between.
   */
  async #liveVersion(path: string, rev: string, operation: string): Promise<number | undefined> {
    const wanted = parseRevision(rev);
    if (wanted === undefined) return undefined;
    const latest = await this.#readLatest(path, operation);
    if (latest.version !== wanted || entryState(latest.data, Date.now()).kind !== 'live') return undefined;
    return latest.version;
  }

  // Vault requests.

  /** GET data/<path>: the latest version, whether live, deleted (404 with the version's metadata) or never written. */
  async #readLatest(path: string, operation: string): Promise<LatestVersion> {
    const answer = await this.#vault.call(operation, 'GET', `${this.#mountPath}/data/${encodePathSegments(path)}`);
    const version = metadataVersion(answer.body);
    if (answer.status === 200 && version !== undefined) {
      const data = (answer.body as { data: { data?: unknown } }).data.data;
      return { version, data: isRecord(data) ? data : null };
    }
    if (answer.status === 404) {
      if (version !== undefined) return { version, data: null };
      // A key never written: 404 with no errors. Anything else is a 404 about the route, i.e. the mount.
      if (vaultErrors(answer.body).length === 0) return { version: 0, data: null };
    }
    throw this.#vault.unexpected(operation, answer);
  }

  /** POST data/<path> with cas=`cas`: the new version, or null when the key's current version is not `cas`. */
  async #write(path: string, data: Record<string, unknown>, cas: number, operation: string): Promise<number | null> {
    const payload = JSON.stringify({ options: { cas }, data });
    const answer = await this.#vault.call(operation, 'POST', `${this.#mountPath}/data/${encodePathSegments(path)}`, payload);
    if (answer.status === 200) {
      const version = (answer.body as { data?: { version?: unknown } } | undefined)?.data?.version;
      if (isVersion(version)) return version;
    }
    if (answer.status === 400 && vaultErrors(answer.body).some((error) => /check-and-set parameter did not match/.test(error))) {
      return null;
    }
    throw this.#vault.unexpected(operation, answer);
  }

  /** An unconditional write, as a check-and-set on whatever version is current (so cas_required mounts work). */
  async #overwrite(path: string, data: Record<string, unknown>, operation: string): Promise<number> {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const latest = await this.#readLatest(path, operation);
      const version = await this.#write(path, data, latest.version, operation);
      if (version !== null) return version;
    }
    throw this.#contention(operation);
  }

  /** GET metadata/<folder>?list=true (Vault's LIST, which Node's HTTP server cannot even parse): one level. */
  async #listFolder(folder: string, operation: string): Promise<string[]> {
    // One folder level can hold many names (every HTTP-01 token ever written leaves one): a listing's answer cap.
    const answer = await this.#vault.call(operation, 'GET', `${this.#mountPath}/metadata/${encodePathSegments(folder)}?list=true`, undefined, LIST_ANSWER_BYTES);
    if (answer.status === 200) {
      const keys = (answer.body as { data?: { keys?: unknown } } | undefined)?.data?.keys;
      if (Array.isArray(keys)) {
        // A name is one segment, or one segment and '/' for a folder; anything else cannot be ours.
        return keys.filter((name): name is string => typeof name === 'string' && /^[^/]+\/?$/.test(name));
      }
    }
    if (answer.status === 404 && vaultErrors(answer.body).length === 0) return []; // nothing below
    throw this.#vault.unexpected(operation, answer);
  }

  /**
   * Lazy cleanup of an expired entry: a tombstone written over exactly that version (so a fresh write that got
   * there first is never touched). Best effort: the entry is already invisible, and a read-only token may not
   * write at all, so a failure only stops further attempts.
   */
  async #buryExpired(path: string, version: number): Promise<void> {
    if (this.#housekeepingRefused) return;
    try {
      await this.#write(path, TOMBSTONE, version, 'clean up an expired entry');
    } catch {
      this.#housekeepingRefused = true;
    }
  }

  #contention(operation: string): OperationError {
    return this.#vault.failure(operation, `the secret kept changing under ${MAX_WRITE_ATTEMPTS} attempts in a row`, {
      hint: 'another process is writing the same key continuously; try again',
    });
  }
}
