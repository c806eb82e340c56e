import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OperationError } from '../../src/domain/errors.js';
import { SQLITE_SCHEMA_VERSION, SqliteStore } from '../../src/store/sqlite.js';
import { tempDir } from '../support/temp-dir.js';
import { describeStoreContract } from './contract.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const root = tempDir('sqlite-test');

const contractFile = join(root, 'contract', 'acmectl.db');
describeStoreContract('sqlite', {
  open: () => SqliteStore.open(contractFile),
  url: () => `sqlite:${contractFile}`,
});

const modeOf = (path: string): number => statSync(path).mode & 0o777;
const isRoot = process.getuid?.() === 0;
let fileCounter = 0;
const freshPath = (...dirs: string[]): string => join(root, ...dirs, `store-${++fileCounter}.db`);

async function expectOpenFailure(path: string, message: RegExp): Promise<OperationError> {
  const error = await SqliteStore.open(path).then(
    () => {
      throw new Error(`opening ${path} should have failed`);
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(OperationError);
  const operationError = error as OperationError;
  expect(operationError.exitCode).toBe(1);
  expect(operationError.message).toContain(path);
  expect(operationError.message).toMatch(message);
  expect(operationError.cause).toBeDefined();
  return operationError;
}

describe('SqliteStore files', () => {
  it('creates missing directories with mode 0700 and the file, -wal and -shm with mode 0600', async () => {
    const path = freshPath('new-parent', 'new-child');
    const previousUmask = process.umask(0o000); // a permissive umask must not widen anything
    let store: SqliteStore;
    try {
      store = await SqliteStore.open(path);
    } finally {
      process.umask(previousUmask);
    }
    try {
      expect(store.kind).toBe('sqlite');
      expect(store.shared).toBe(false);
      expect(store.path).toBe(path);
      expect(modeOf(join(root, 'new-parent'))).toBe(0o700);
      expect(modeOf(join(root, 'new-parent', 'new-child'))).toBe(0o700);
      await store.put('k', new Uint8Array([1])); // make sure the WAL is in use
      expect(modeOf(path)).toBe(0o600);
      for (const sidecar of [`${path}-wal`, `${path}-shm`]) {
        expect(existsSync(sidecar), sidecar).toBe(true);
        expect(modeOf(sidecar), sidecar).toBe(0o600);
      }
    } finally {
      await store.close();
    }
  });

  // Node's recursive mkdir spun forever where mkdir answers ENOENT (synchronously: not even SIGTERM's handler ran),
  // so the built code is tried in a child process that a time limit can end.
  it.each(['/proc/acmectl-test/acmectl.db', '/proc/self/acmectl-test/sub/acmectl.db'])('fails, and returns, when the directory of %s cannot be created', (path) => {
    const script = `
      const { openStore } = await import(${JSON.stringify(join(PROJECT_ROOT, 'dist/store/open.js'))});
      const error = await openStore(process.argv[1]).then(() => null, (failure) => failure);
      console.log(JSON.stringify(error && { name: error.name, message: error.message }));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, `sqlite:${path}`], { encoding: 'utf8', timeout: 15_000, killSignal: 'SIGKILL' });
    expect(child.signal, 'still creating the directory after 15 s').toBeNull();
    expect(JSON.parse(child.stdout)).toMatchObject({ name: 'OperationError', message: expect.stringMatching(/ENOENT/) });
  });

  it('leaves an existing directory’s mode alone', async () => {
    const path = freshPath();
    const store = await SqliteStore.open(path);
    await store.close();
    expect(modeOf(root)).toBe(0o700); // mkdtemp's own mode, untouched
  });

  it('sets the schema version and uses WAL mode', async () => {
    const path = freshPath();
    await (await SqliteStore.open(path)).close();
    const raw = new Database(path, { readonly: true });
    try {
      // A new SQLite file has user_version 0; open() writes the schema's version there.
      expect(raw.pragma('user_version', { simple: true })).not.toBe(0);
      expect(raw.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all();
      expect(tables).toEqual(['counters', 'kv', 'lock_fences', 'locks']);
    } finally {
      raw.close();
    }
  });
});

describe('SqliteStore persistence', () => {
  it('keeps data across close and reopen, and never reuses a revision or fence afterwards', async () => {
    const path = freshPath();
    const first = await SqliteStore.open(path);
    const written = await first.put('certs/example.com', new Uint8Array([0, 1, 2, 255]));
    const lease = (await first.lock('cert/example.com', { ttlMs: 10_000 }))!;
    await first.close();

    const second = await SqliteStore.open(path);
    try {
      const entry = await second.get('certs/example.com');
      expect(Array.from(entry!.value)).toEqual([0, 1, 2, 255]);
      expect(entry!.rev).toBe(written.ok ? written.rev : '');
      expect(await second.delete('certs/example.com')).toBe(true);
      const recreated = await second.put('certs/example.com', new Uint8Array([9]));
      expect(recreated.ok && recreated.rev).not.toBe(written.ok && written.rev);
      const relocked = await second.lock('cert/example.com', { ttlMs: 10_000 });
      expect(relocked, 'closing the first store released its lease').not.toBeNull();
      expect(relocked!.fence > lease.fence).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('two connections to one file see each other’s locks and writes', async () => {
    const path = freshPath();
    const [one, two] = [await SqliteStore.open(path), await SqliteStore.open(path)];
    try {
      const lease = await one.lock('shared', { ttlMs: 10_000 });
      expect(lease).not.toBeNull();
      expect(await two.lock('shared', { ttlMs: 10_000 })).toBeNull();
      const written = await one.put('k', new Uint8Array([7]));
      expect((await two.get('k'))!.rev).toBe(written.ok ? written.rev : '');
      await lease!.release();
      expect(await two.lock('shared', { ttlMs: 10_000 })).not.toBeNull();
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('purges expired rows when opened', async () => {
    const path = freshPath();
    const store = await SqliteStore.open(path);
    await store.put('short', new Uint8Array([1]), { ttlMs: 100 });
    await store.put('kept', new Uint8Array([2]));
    await store.close();
    await new Promise((resolve) => setTimeout(resolve, 250));
    await (await SqliteStore.open(path)).close();
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.prepare('SELECT key FROM kv ORDER BY key').pluck().all()).toEqual(['kept']);
    } finally {
      raw.close();
    }
  });

  it('rejects use after close', async () => {
    const store = await SqliteStore.open(freshPath());
    await store.close();
    await expect(store.get('k')).rejects.toThrow(/closed/);
    await store.close(); // idempotent
  });
});

describe('SqliteStore.openReadOnly (shell completion)', () => {
  it('reads what is stored while another process holds the write lock, and writes nothing', async () => {
    const path = freshPath();
    const writer = await SqliteStore.open(path);
    await writer.put('certs/example.com', new Uint8Array([1]));
    // A renew in progress: BEGIN IMMEDIATE held by another connection. open() would wait for it (its migration
    // takes the write lock); a reader must not.
    const busy = new Database(path);
    busy.exec('BEGIN IMMEDIATE');
    try {
      const reader = await SqliteStore.openReadOnly(path, { busyTimeoutMs: 100 });
      try {
        const keys: string[] = [];
        for await (const key of reader.list('certs/')) keys.push(key);
        expect(keys).toEqual(['certs/example.com']);
        await expect(reader.put('certs/other', new Uint8Array([2]))).rejects.toThrow(/readonly|read-only/i);
      } finally {
        await reader.close();
      }
    } finally {
      busy.exec('ROLLBACK');
      busy.close();
      await writer.close();
    }
  });

  it('creates nothing for a file that does not exist', async () => {
    const dir = join(root, 'never-created');
    await expect(SqliteStore.openReadOnly(join(dir, 'acmectl.db'), { busyTimeoutMs: 100 })).rejects.toBeInstanceOf(OperationError);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a database that is not an acmectl store of this schema version', async () => {
    const path = freshPath();
    new Database(path).close(); // an empty SQLite file: user_version 0, no tables
    await expect(SqliteStore.openReadOnly(path, { busyTimeoutMs: 100 })).rejects.toThrow(/schema version 0/);
  });
});

describe('SqliteStore open failures', () => {
  it('a file that is not a database: OperationError naming the path', async () => {
    const path = freshPath();
    writeFileSync(path, Buffer.alloc(8192, 'this is not a SQLite database. '), { mode: 0o600 });
    await expectOpenFailure(path, /not a database/);
  });

  it('a parent path that is a file: OperationError naming the path', async () => {
    const blocker = join(root, `blocker-${++fileCounter}`);
    writeFileSync(blocker, 'a file, not a directory');
    await expectOpenFailure(join(blocker, 'acmectl.db'), /ENOTDIR|not a directory/);
  });

  it('a store written by a newer acmectl: OperationError saying so', async () => {
    const path = freshPath();
    await (await SqliteStore.open(path)).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    raw.close();
    const error = await SqliteStore.open(path).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/newer/);
  });

  it('a directory without permission: OperationError naming the path, with a hint', async () => {
    const lockedDir = join(root, `locked-${++fileCounter}`);
    const path = join(lockedDir, 'sub', 'acmectl.db');
    mkdirSync(lockedDir, { mode: 0o500 });
    chmodSync(lockedDir, 0o500);
    try {
      if (!isRoot) {
        const error = await expectOpenFailure(path, /EACCES|permission denied/i);
        expect(error.hint).toMatch(/permissions/);
        return;
      }
      // root ignores permission bits, so show it as "nobody" in a child process running the built code.
      chmodSync(root, 0o755);
      const script = `
        const { openStore } = await import(${JSON.stringify(join(PROJECT_ROOT, 'dist/store/open.js'))});
        const error = await openStore(process.argv[1]).then(() => null, (failure) => failure);
        console.log(JSON.stringify(error && { name: error.name, exitCode: error.exitCode, message: error.message, hint: error.hint }));
      `;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, `sqlite:${path}`], {
        cwd: tmpdir(),
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(child.stderr).toBe('');
      const error = JSON.parse(child.stdout) as { name: string; exitCode: number; message: string; hint: string };
      expect(error).toMatchObject({ name: 'OperationError', exitCode: 1 });
      expect(error.message).toContain(path);
      expect(error.message).toMatch(/EACCES|permission denied/i);
      expect(error.hint).toMatch(/permissions/);
    } finally {
      chmodSync(root, 0o700);
      chmodSync(lockedDir, 0o700);
    }
  });
});
