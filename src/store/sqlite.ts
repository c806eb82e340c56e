/**
 * The default store: one SQLite file (better-sqlite3), safe for several acmectl processes on one host.
 *
 * Concurrency: every read-check-write runs inside `BEGIN IMMEDIATE`, which takes SQLite's write lock
 * before the first read, so two processes can never both see "absent" and both write. A process that finds
 * the file locked waits up to 5 s (busy_timeout) before the operation fails with an OperationError.
 * WAL mode lets readers proceed while a writer holds the lock.
 */
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { AcmectlError, OperationError } from '../domain/errors.js';
import { StoreBackend, type FailureDescription } from './backend.js';
import { codeOf, describeError } from '../net/error-text.js';
import { StoreErrors } from './errors.js';
import { parseRevision } from './revision.js';
import type { Entry, KeyedEntry, PutOptions, PutResult } from './store.js';
import { expiryOf } from './put-options.js';

/** Schema version kept in PRAGMA user_version; bump it and add a step to `migrate()` when the schema changes. */
export const SQLITE_SCHEMA_VERSION = 1;

const BUSY_TIMEOUT_MS = 5_000;

// kv.rev comes from counters('revision'), shared by all keys and only ever incremented, so a revision is
// never reused, not even for a key that was deleted and written again.
// lock_fences keeps the last fencing token per lock name after the lock row is deleted, so tokens keep
// growing forever; locks holds only current (possibly expired) leases.
const SCHEMA_V1 = `
  CREATE TABLE IF NOT EXISTS kv (
    key        TEXT PRIMARY KEY NOT NULL,
    value      BLOB NOT NULL,
    rev        INTEGER NOT NULL,
    expires_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL;
  CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
  );
  INSERT OR IGNORE INTO counters (name, value) VALUES ('revision', 0);
  CREATE TABLE IF NOT EXISTS locks (
    name       TEXT PRIMARY KEY NOT NULL,
    owner      TEXT NOT NULL,
    fence      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS lock_fences (
    name       TEXT PRIMARY KEY NOT NULL,
    last_fence INTEGER NOT NULL
  );
`;

const LIVE = '(expires_at IS NULL OR expires_at > @now)';

interface EntryRow {
  value: Buffer;
  rev: number;
  expiresAt: number | null;
}

/**
 * A Store in one SQLite file. `kind` 'sqlite', not shared across hosts (other processes on the same host
 * that open the same file do see the same data, locks included). Expired rows are invisible to every
 * read and are purged when the store is opened.
 */
export class SqliteStore extends StoreBackend {
  readonly kind = 'sqlite';
  readonly shared = false;
  /** Absolute path of the database file. */
  readonly path: string;

  readonly #db: Database.Database;
  readonly #statements: ReturnType<typeof prepareStatements>;
  readonly #putTransaction: Database.Transaction<(key: string, value: Buffer, options: PutOptions) => number | null>;
  readonly #acquireTransaction: Database.Transaction<(name: string, owner: string, ttlMs: number) => bigint | null>;

  private constructor(path: string, db: Database.Database) {
    super(new StoreErrors('SQLite', path));
    this.path = path;
    this.#db = db;
    const statements = prepareStatements(db);
    this.#statements = statements;

    this.#putTransaction = db.transaction((key: string, value: Buffer, options: PutOptions): number | null => {
      const now = Date.now();
      const expiresAt = expiryOf(options, now);
      const currentRev = statements.selectLiveRev.get({ key, now }) as number | undefined;
      if (options.ifAbsent === true && currentRev !== undefined) return null;
      if (options.ifRev !== undefined && (currentRev === undefined || currentRev !== parseRevision(options.ifRev))) {
        return null;
      }
      const rev = statements.nextRev.get() as number;
      statements.upsertEntry.run({ key, value, rev, expiresAt: expiresAt ?? null });
      return rev;
    });

    this.#acquireTransaction = db.transaction((name: string, owner: string, ttlMs: number): bigint | null => {
      const now = Date.now();
      const heldUntil = statements.selectLockExpiry.get({ name }) as number | undefined;
      if (heldUntil !== undefined && heldUntil > now) return null;
      const fence = statements.nextFence.get({ name }) as bigint;
      statements.upsertLock.run({ name, owner, fence, expiresAt: now + ttlMs });
      return fence;
    });
  }

  /**
   * Opens (creating if needed) the database at `path`. A missing parent directory is created with mode
   * 0700 and a missing file with mode 0600 before SQLite touches it, so there is no moment at which the
   * file is readable by others. Failures (permission denied, not a database, a newer schema) become an
   * OperationError naming the path.
   */
  static async open(path: string): Promise<SqliteStore> {
    const file = resolve(path);
    let db: Database.Database | undefined;
    try {
      createPrivateDirectory(dirname(file));
      createPrivateFile(file);
      db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      restrictSidecarFiles(file);
      migrate(db, file);
      return new SqliteStore(file, db);
    } catch (error) {
      db?.close();
      if (error instanceof AcmectlError) throw error;
      throw new OperationError(`cannot open the SQLite store ${file}: ${describeError(error)}`, {
        cause: error,
        hint: hintFor(error),
      });
    }
  }

  /**
   * Opens an existing database for reading only, for answers that must come at once or not at all (shell
   * completion): nothing is created, migrated or purged, so no write lock is taken, and a database locked
   * longer than `busyTimeoutMs` fails instead of waiting SQLite's usual 5 s (the wait blocks the whole process).
   * Every write fails with SQLITE_READONLY. A database of another schema version is refused as open() does.
   */
  static async openReadOnly(path: string, options: { busyTimeoutMs: number }): Promise<SqliteStore> {
    const file = resolve(path);
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs });
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version !== SQLITE_SCHEMA_VERSION) throw new OperationError(`the SQLite store ${file} has schema version ${version}, not ${SQLITE_SCHEMA_VERSION}`);
      return new SqliteStore(file, db);
    } catch (error) {
      db?.close();
      if (error instanceof AcmectlError) throw error;
      throw new OperationError(`cannot read the SQLite store ${file}: ${describeError(error)}`, { cause: error, hint: hintFor(error) });
    }
  }

  async get(key: string): Promise<Entry | null> {
    return this.run('read', () => {
      const row = this.#statements.selectLiveEntry.get({ key, now: Date.now() }) as EntryRow | undefined;
      return row === undefined ? null : entryOf(row);
    });
  }

  async put(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const rev = await this.run('write', () => this.#putTransaction.immediate(key, bytes, options));
    return rev === null ? { ok: false } : { ok: true, rev: String(rev) };
  }

  async delete(key: string, options: { ifRev?: string } = {}): Promise<boolean> {
    return this.run('delete', () => {
      const now = Date.now();
      // One statement, so atomic without an explicit transaction.
      if (options.ifRev === undefined) return this.#statements.deleteLive.run({ key, now }).changes > 0;
      const rev = parseRevision(options.ifRev);
      if (rev === undefined) return false;
      return this.#statements.deleteLiveWithRev.run({ key, now, rev }).changes > 0;
    });
  }

  /**
   * Live keys starting with `prefix`, compared literally, in byte order. Keys sharing a prefix are one
   * contiguous run in SQLite's BINARY order, so we seek to the prefix and stop at the first key without it
   * (no LIKE/GLOB, whose `%`, `_`, `*`, `?` would act as patterns). The keys are read in one go before the
   * first one is yielded, so a slow consumer never holds the database.
   */
  async *list(prefix: string): AsyncIterable<string> {
    const keys = await this.run('list', () => {
      const found: string[] = [];
      for (const key of this.#statements.listFrom.iterate({ prefix, now: Date.now() }) as IterableIterator<string>) {
        if (!key.startsWith(prefix)) break;
        found.push(key);
      }
      return found;
    });
    yield* keys;
  }

  /**
   * A range from the prefix, stopped at the first key without it (as list()), read ENTRIES_PER_PAGE rows per
   * query: the caller decodes one page while the next is not yet read, and no page holds the database between
   * queries.
   */
  override async *entries(prefix: string): AsyncIterable<KeyedEntry> {
    let after: string | null = null;
    for (;;) {
      const from = after;
      const page = await this.run('read', () => {
        const rows: KeyedEntry[] = [];
        const now = Date.now();
        const statement = from === null ? this.#statements.entriesFrom : this.#statements.entriesAfter;
        for (const row of statement.iterate(from === null ? { prefix, now } : { after: from, now }) as IterableIterator<EntryRow & { key: string }>) {
          if (!row.key.startsWith(prefix)) return { rows, done: true };
          rows.push({ key: row.key, entry: entryOf(row) });
        }
        return { rows, done: rows.length < ENTRIES_PER_PAGE };
      });
      yield* page.rows;
      if (page.done || page.rows.length === 0) return;
      after = page.rows[page.rows.length - 1]!.key;
    }
  }

  protected acquireLock(name: string, owner: string, ttlMs: number): bigint | null {
    return this.#acquireTransaction.immediate(name, owner, ttlMs);
  }

  protected renewLock(name: string, owner: string, fence: bigint, ttlMs: number): boolean {
    const now = Date.now();
    return this.#statements.renewLock.run({ name, owner, fence, now, expiresAt: now + ttlMs }).changes === 1;
  }

  protected releaseLock(name: string, owner: string, fence: bigint): boolean {
    return this.#statements.releaseLock.run({ name, owner, fence }).changes === 1;
  }

  protected disconnect(): void {
    this.#db.close();
  }

  protected override describeFailure(error: unknown): FailureDescription {
    return { detail: describeError(error), hint: hintFor(error) };
  }
}

/** Rows per query of entries(). */
const ENTRIES_PER_PAGE = 500;

function entryOf(row: EntryRow): Entry {
  const entry: Entry = { value: new Uint8Array(row.value.buffer, row.value.byteOffset, row.value.byteLength), rev: String(row.rev) };
  if (row.expiresAt !== null) entry.expiresAt = row.expiresAt;
  return entry;
}

function prepareStatements(db: Database.Database) {
  return {
    selectLiveEntry: db.prepare(
      `SELECT value, rev, expires_at AS expiresAt FROM kv WHERE key = @key AND ${LIVE}`,
    ),
    selectLiveRev: db.prepare(`SELECT rev FROM kv WHERE key = @key AND ${LIVE}`).pluck(),
    nextRev: db.prepare(`UPDATE counters SET value = value + 1 WHERE name = 'revision' RETURNING value`).pluck(),
    upsertEntry: db.prepare(
      `INSERT INTO kv (key, value, rev, expires_at) VALUES (@key, @value, @rev, @expiresAt)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, rev = excluded.rev, expires_at = excluded.expires_at`,
    ),
    deleteLive: db.prepare(`DELETE FROM kv WHERE key = @key AND ${LIVE}`),
    deleteLiveWithRev: db.prepare(`DELETE FROM kv WHERE key = @key AND rev = @rev AND ${LIVE}`),
    listFrom: db.prepare(`SELECT key FROM kv WHERE key >= @prefix AND ${LIVE} ORDER BY key`).pluck(),
    entriesFrom: db.prepare(`SELECT key, value, rev, expires_at AS expiresAt FROM kv WHERE key >= @prefix AND ${LIVE} ORDER BY key LIMIT ${ENTRIES_PER_PAGE}`),
    entriesAfter: db.prepare(`SELECT key, value, rev, expires_at AS expiresAt FROM kv WHERE key > @after AND ${LIVE} ORDER BY key LIMIT ${ENTRIES_PER_PAGE}`),
    selectLockExpiry: db.prepare(`SELECT expires_at FROM locks WHERE name = @name`).pluck(),
    nextFence: db
      .prepare(
        `INSERT INTO lock_fences (name, last_fence) VALUES (@name, 1)
         ON CONFLICT (name) DO UPDATE SET last_fence = last_fence + 1 RETURNING last_fence`,
      )
      .pluck()
      .safeIntegers(),
    upsertLock: db.prepare(
      `INSERT INTO locks (name, owner, fence, expires_at) VALUES (@name, @owner, @fence, @expiresAt)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, fence = excluded.fence, expires_at = excluded.expires_at`,
    ),
    renewLock: db.prepare(
      `UPDATE locks SET expires_at = @expiresAt
       WHERE name = @name AND owner = @owner AND fence = @fence AND expires_at > @now`,
    ),
    releaseLock: db.prepare(`DELETE FROM locks WHERE name = @name AND owner = @owner AND fence = @fence`),
  };
}

/** Brings the schema to SQLITE_SCHEMA_VERSION inside one write transaction, so concurrent openers agree. */
function migrate(db: Database.Database, file: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new OperationError(
        `the SQLite store ${file} has schema version ${version}, newer than this acmectl understands (${SQLITE_SCHEMA_VERSION})`,
        { hint: 'upgrade acmectl, or use the version that wrote this store' },
      );
    }
    if (version < 1) {
      db.exec(SCHEMA_V1);
      db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
    }
    // Lazy housekeeping: expired rows are already invisible; this only keeps the file from growing.
    const now = Date.now();
    db.prepare('DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now);
    db.prepare('DELETE FROM locks WHERE expires_at <= ?').run(now);
  }).immediate();
}

/**
 * Creates `dir` and any missing parents with mode 0700 (chmod as well, so the umask cannot widen it). Each
 * missing directory is created once, top-down: Node's recursive mkdir retries for as long as mkdir answers
 * ENOENT while the parent exists, which is what /proc answers (`ACMECTL_HOME=/proc/x` spun forever, and being
 * synchronous, not even SIGTERM's handler could run).
 */
function createPrivateDirectory(dir: string): void {
  const missing: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    const kind = kindOf(current);
    if (kind === 'directory') break;
    if (kind === 'other') throw new Error(`${dir}, or one of its parents, exists and is not a directory`);
    if (dirname(current) === current) throw new Error(`cannot create ${dir}: its root does not exist`);
    missing.unshift(current);
  }
  for (const current of missing) {
    try {
      mkdirSync(current, { mode: 0o700 });
    } catch (error) {
      if (codeOf(error) === 'EEXIST' && kindOf(current) === 'directory') continue; // another process made it meanwhile
      throw error;
    }
    chmodSync(current, 0o700);
  }
}

/** What is at `path`, following links; a path under a file counts as missing (the file is found further up). */
function kindOf(path: string): 'directory' | 'missing' | 'other' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch (error) {
    if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return 'missing';
    throw error;
  }
}

/** Creates an empty file with mode 0600 if none exists; an existing file keeps its mode. */
function createPrivateFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return;
    throw error;
  }
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}

/** SQLite gives -wal/-shm the main file's mode already; this makes 0600 certain. Missing ones are fine. */
function restrictSidecarFiles(file: string): void {
  for (const suffix of ['-wal', '-shm']) {
    try {
      chmodSync(file + suffix, 0o600);
    } catch (error) {
      // ENOENT: not created yet. EPERM: someone else's file we may still use; not ours to change.
      if (codeOf(error) !== 'ENOENT' && codeOf(error) !== 'EPERM') throw error;
    }
  }
}


function hintFor(error: unknown): string | undefined {
  switch (codeOf(error)) {
    case 'EACCES':
    case 'EPERM':
      return 'check the permissions of the file and its directory, or choose another path with --store sqlite:PATH';
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return 'the file is not an acmectl SQLite store (or it is damaged): restore it from a backup or choose another path';
    case 'SQLITE_BUSY':
      return `another process kept the database locked for more than ${BUSY_TIMEOUT_MS / 1000} s; try again`;
    case 'SQLITE_CANTOPEN':
      return 'check that the path names a file (not a directory) that this user can read and write';
    case 'SQLITE_READONLY':
      return 'the file or its directory is read-only for this user';
    default:
      return undefined;
  }
}
