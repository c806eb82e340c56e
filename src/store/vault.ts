/**
 * The Vault store: acmectl's entries and locks as secrets in a KV version 2 secrets engine, spoken to over
 * Vault's documented HTTP API with node:http/https (no client library). `shared`: every host pointing at the
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
import { readFile } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { OperationError } from '../domain/errors.js';
import { LeaseKeeper, type LeasePrimitives } from './lease.js';
import { compareUtf8 } from '../domain/compare-utf8.js';
import { mapWithConcurrency } from '../domain/concurrency.js';
import type { Entry, Lease, LockOptions, PutOptions, PutResult, Store } from './store.js';
import type { VaultStoreConfig } from './vault-url.js';
import { expiryOf } from './put-options.js';
import { isCertificateError } from '../domain/network-failure.js';

/**
 * Largest value the store accepts. Values travel base64-encoded (4/3 of their size) and Vault's integrated
 * storage refuses entries over 1 MiB by default (max_entry_size), so 512 KiB leaves room for the envelope.
 */
export const VAULT_MAX_VALUE_BYTES = 512 * 1024;

/** How often a read-then-check-and-set step is retried when another writer got in between. */
const MAX_WRITE_ATTEMPTS = 10;
/** Liveness checks a list runs at once (one GET per listed key). */
const LIST_CONCURRENCY = 8;
/** Idle keep-alive sockets are closed after this, before servers' usual 5 s idle timeout can reset them under us. */
const IDLE_SOCKET_MS = 4_000;

/** Opens the vault store, logging in first for auth=approle / auth=kubernetes. The caller must close() it. */
export async function openVaultStore(config: VaultStoreConfig): Promise<Store> {
  const vault = new VaultConnection(config);
  try {
    await vault.logIn();
  } catch (error) {
    await vault.close();
    throw error;
  }
  return new VaultStore(config, vault);
}

interface VaultAnswer {
  status: number;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: unknown;
}

/** The latest version of a secret: version 0 when the key has no metadata; data null when deleted or destroyed. */
interface LatestVersion {
  version: number;
  data: Record<string, unknown> | null;
}

type EntryState =
  | { kind: 'live'; value: Uint8Array; expiresAt: number | undefined }
  | { kind: 'absent' }
  | { kind: 'expired' }
  /** Something at our path that acmectl did not write. */
  | { kind: 'foreign' };

interface LockHolder {
  owner: string;
  fence: string;
  expiresAt: number;
}

const TOMBSTONE = { deleted: true } as const;

class VaultStore implements Store {
  readonly kind = 'vault';
  readonly shared = true;

  readonly #vault: VaultConnection;
  readonly #mountPath: string;
  readonly #entriesRoot: string;
  readonly #locksRoot: string;
  readonly #leases: LeaseKeeper;
  #closed = false;
  /** Set once Vault refuses a housekeeping write (a read-only policy, e.g. for `acmectl serve`): stop trying. */
  #housekeepingRefused = false;

  constructor(config: VaultStoreConfig, vault: VaultConnection) {
    this.#vault = vault;
    this.#mountPath = encodePath(config.mount);
    this.#entriesRoot = `${config.pathPrefix}entries/`;
    this.#locksRoot = `${config.pathPrefix}locks/`;
    const primitives: LeasePrimitives = {
      acquire: (name, owner, ttlMs) => this.#acquire(name, owner, ttlMs),
      renew: (name, owner, fence, ttlMs) => this.#renew(name, owner, fence, ttlMs),
      release: (name, owner, fence) => this.#release(name, owner, fence),
    };
    this.#leases = new LeaseKeeper(primitives);
  }

  async get(key: string): Promise<Entry | null> {
    this.#checkOpen();
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
    this.#checkOpen();
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
    this.#checkOpen();
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
    this.#checkOpen();
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

  async lock(name: string, options: LockOptions): Promise<Lease | null> {
    this.#checkOpen();
    return this.#leases.lock(name, options);
  }

  /** Releases held leases, revokes a token acmectl logged in for, and closes connections. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#leases.close();
    this.#closed = true;
    await this.#vault.close();
  }

  // Lock records. The fence is the KV version of the write that took the lock: versions only grow, so fences do.

  async #acquire(name: string, owner: string, ttlMs: number): Promise<bigint | null> {
    this.#checkOpen();
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

  async #renew(name: string, owner: string, fence: bigint, ttlMs: number): Promise<boolean> {
    this.#checkOpen();
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

  async #release(name: string, owner: string, fence: bigint): Promise<boolean> {
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
    if (!/^[1-9][0-9]{0,14}$/.test(rev)) return undefined;
    const latest = await this.#readLatest(path, operation);
    if (latest.version !== Number(rev) || entryState(latest.data, Date.now()).kind !== 'live') return undefined;
    return latest.version;
  }

  // Vault requests.

  /** GET data/<path>: the latest version, whether live, deleted (404 with the version's metadata) or never written. */
  async #readLatest(path: string, operation: string): Promise<LatestVersion> {
    const answer = await this.#vault.call(operation, 'GET', `${this.#mountPath}/data/${encodePath(path)}`);
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
    const answer = await this.#vault.call(operation, 'POST', `${this.#mountPath}/data/${encodePath(path)}`, payload);
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
    const answer = await this.#vault.call(operation, 'GET', `${this.#mountPath}/metadata/${encodePath(folder)}?list=true`);
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

  #checkOpen(): void {
    if (this.#closed) throw new Error('the Vault store is closed');
  }
}

/**
 * HTTP to one Vault server: authentication (the token, or a login whose token is renewed by logging in again
 * on a 403), the namespace header, timeouts, TLS settings, and errors that name the store by its redacted URL
 * and never contain a secret.
 */
class VaultConnection {
  readonly #config: VaultStoreConfig;
  readonly #agent: HttpAgent;
  /** Every secret this connection knows; scrubbed from any text that goes into an error. */
  readonly #secrets = new Set<string>();
  #token: string | undefined;
  #loggingIn: Promise<void> | undefined;

  constructor(config: VaultStoreConfig) {
    this.#config = config;
    const { auth } = config;
    if (auth.method === 'token') {
      this.#token = auth.token.reveal();
      this.#secrets.add(this.#token);
    } else if (auth.method === 'approle') {
      this.#secrets.add(auth.secretId.reveal());
    }
    this.#agent =
      config.protocol === 'https:'
        ? new HttpsAgent({
            keepAlive: true,
            timeout: IDLE_SOCKET_MS,
            rejectUnauthorized: config.tlsVerify,
            // `ca` replaces Node's trusted roots: keep them, the bundle only adds.
            ...(config.caBundlePem !== undefined ? { ca: [...rootCertificates, config.caBundlePem] } : {}),
            ...(config.servername !== undefined ? { servername: config.servername } : {}),
          })
        : new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
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
      this.#secrets.add(jwt);
      payload = JSON.stringify({ role: auth.role, jwt });
    }
    const answer = await this.#send(operation, 'POST', `auth/${encodePath(auth.mount)}/login`, payload, undefined);
    const token = (answer.body as { auth?: { client_token?: unknown } } | undefined)?.auth?.client_token;
    if (answer.status === 200 && typeof token === 'string' && token !== '') {
      this.#secrets.add(token);
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
  async call(operation: string, method: 'GET' | 'POST', path: string, payload?: string): Promise<VaultAnswer> {
    const token = this.#token;
    let answer = await this.#send(operation, method, path, payload, token);
    if (answer.status === 403 && this.#config.auth.method !== 'token') {
      await this.#logInAgain(token);
      answer = await this.#send(operation, method, path, payload, this.#token);
    }
    if ((answer.status >= 200 && answer.status < 300) || answer.status === 400 || answer.status === 404) return answer;
    throw this.unexpected(operation, answer);
  }

  /** An OperationError "Vault store <redacted URL>: could not <operation>: <reason>", scrubbed of secrets. */
  failure(operation: string, reason: string, options: { hint?: string; cause?: unknown } = {}): OperationError {
    return new OperationError(this.#scrub(`Vault store ${this.#config.display}: could not ${operation}: ${reason}`), {
      ...(options.hint !== undefined ? { hint: this.#scrub(options.hint) } : {}),
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
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
      this.#agent.destroy();
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

  /** One HTTP exchange. GETs that die on a reused keep-alive socket are retried once (the server closed it). */
  async #send(operation: string, method: 'GET' | 'POST', path: string, payload: string | undefined, token: string | undefined): Promise<VaultAnswer> {
    try {
      return await this.#exchange(method, path, payload, token);
    } catch (error) {
      if (method === 'GET' && error instanceof ReusedSocketReset) {
        try {
          return await this.#exchange(method, path, payload, token);
        } catch (again) {
          throw this.#transportFailure(operation, again);
        }
      }
      throw this.#transportFailure(operation, error);
    }
  }

  #exchange(method: 'GET' | 'POST', path: string, payload: string | undefined, token: string | undefined): Promise<VaultAnswer> {
    const { host, port, protocol, namespace, timeoutMs } = this.#config;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined) headers['x-vault-token'] = token;
    if (namespace !== undefined) headers['x-vault-namespace'] = namespace;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise<VaultAnswer>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const request = (protocol === 'https:' ? httpsRequest : httpRequest)(
        { host, port, method, path: `/v1/${path}`, headers, agent: this.#agent },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => settle(() => reject(error)));
          response.on('close', () => {
            if (!response.complete) settle(() => reject(new Error('the connection closed in the middle of the answer')));
          });
          response.on('end', () =>
            settle(() => resolve({ status: response.statusCode ?? 0, body: parseJson(Buffer.concat(chunks).toString('utf8')) })),
          );
        },
      );
      const timer = setTimeout(() => request.destroy(new VaultTimeout(timeoutMs)), timeoutMs);
      request.on('error', (error) =>
        settle(() => reject(request.reusedSocket && codeOf(error) === 'ECONNRESET' ? new ReusedSocketReset(error) : error)),
      );
      request.end(payload);
    });
  }

  #transportFailure(operation: string, error: unknown): OperationError {
    const { host, port } = this.#config;
    const cause = error instanceof ReusedSocketReset ? error.cause : error;
    if (cause instanceof VaultTimeout) {
      return this.failure(operation, cause.message, {
        hint: 'check that Vault is reachable and not overloaded, or allow more time with ?timeout=MILLISECONDS',
      });
    }
    const code = codeOf(cause);
    const reason = cause instanceof Error ? cause.message : String(cause);
    let hint = `check that Vault is running and reachable at ${host}:${port}`;
    if (isCertificateError(code)) {
      hint =
        "Vault's TLS certificate is not trusted: give its CA with --ca-bundle FILE, set ?servername= when the certificate " +
        'names another host, or (for a test server only) ?tls_verify=false';
    } else if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(reason)) {
      hint = 'the server does not speak TLS there: write vault:// for plain HTTP, or check the port';
    }
    return this.failure(operation, reason, { hint, cause });
  }

  /** Replaces every secret this connection knows with "***". */
  #scrub(text: string): string {
    let scrubbed = text;
    for (const secret of this.#secrets) if (secret !== '') scrubbed = scrubbed.split(secret).join('***');
    return scrubbed;
  }
}

class VaultTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`Vault did not answer within ${timeoutMs} ms`);
  }
}

class ReusedSocketReset extends Error {
  constructor(cause: unknown) {
    super('the server closed a kept-alive connection', { cause });
  }
}

function entryState(data: Record<string, unknown> | null, now: number): EntryState {
  if (data === null || data.deleted === true) return { kind: 'absent' };
  const { value, expiresAt } = data;
  if (typeof value !== 'string') return { kind: 'foreign' };
  if (expiresAt !== undefined && !(typeof expiresAt === 'number' && Number.isSafeInteger(expiresAt))) return { kind: 'foreign' };
  if (expiresAt !== undefined && expiresAt <= now) return { kind: 'expired' };
  return { kind: 'live', value: new Uint8Array(Buffer.from(value, 'base64')), expiresAt };
}

function lockHolder(data: Record<string, unknown> | null): LockHolder | null {
  if (data === null) return null;
  const { owner, fence, expiresAt } = data;
  if (typeof owner !== 'string' || typeof fence !== 'string' || typeof expiresAt !== 'number') return null;
  return { owner, fence, expiresAt };
}


/** `data.metadata.version` of a KV v2 read answer (present for deleted versions too), if there is one. */
function metadataVersion(body: unknown): number | undefined {
  const version = (body as { data?: { metadata?: { version?: unknown } } } | undefined)?.data?.metadata?.version;
  return isVersion(version) ? version : undefined;
}

function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Vault's `errors` array, tidied: "1 error occurred:\n\t* permission denied\n\n" → "permission denied". */
function vaultErrors(body: unknown): string[] {
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

/** Percent-encodes each '/'-separated segment of a Vault path (keys may hold '?', '#', '%', spaces, non-ASCII). */
function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
