import { readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { OperationError } from '../domain/errors.js';
import { fsyncDirectory, writeFileAtomic } from './atomic-file.js';
import { faultyFs } from '../../test/support/faulty-export-fs.js';


let dir: string;
let savedUmask: number;

beforeEach(() => {
  dir = tempDir('atomic');
  savedUmask = process.umask();
});

afterEach(() => {
  process.umask(savedUmask);
});

describe('writeFileAtomic', () => {
  it('creates a file with the exact mode even when the umask would remove bits', async () => {
    process.umask(0o077);
    await writeFileAtomic(join(dir, 'cert.pem'), 'public\n', 0o644);
    await writeFileAtomic(join(dir, 'privkey.pem'), 'secret\n', 0o600);
    expect((await stat(join(dir, 'cert.pem'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'privkey.pem'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, 'cert.pem'), 'utf8')).toBe('public\n');
    expect(await readdir(dir)).toEqual(['cert.pem', 'privkey.pem']);
  });

  it('replaces an existing file through a rename (new inode) and resets its mode', async () => {
    const path = join(dir, 'privkey.pem');
    await writeFile(path, 'old key, world-readable by mistake\n', { mode: 0o644 });
    const oldInode = (await stat(path)).ino;
    await writeFileAtomic(path, new TextEncoder().encode('new key\n'), 0o600);
    const after = await stat(path);
    expect(await readFile(path, 'utf8')).toBe('new key\n');
    expect(after.mode & 0o777).toBe(0o600);
    expect(after.ino).not.toBe(oldInode);
    expect(await readdir(dir)).toEqual(['privkey.pem']);
  });

  it('performs open, fchmod, write, fsync, close, rename, then fsyncs the directory', async () => {
    const counting = faultyFs(Number.POSITIVE_INFINITY, 'fail-once');
    await writeFileAtomic(join(dir, 'a.pem'), 'x', 0o644, counting.fs);
    expect(counting.calls).toEqual(['open', 'fchmod', 'write', 'fsync', 'close', 'rename', 'open', 'fsync', 'close']);

    const withoutDirSync = faultyFs(Number.POSITIVE_INFINITY, 'fail-once');
    await writeFileAtomic(join(dir, 'b.pem'), 'x', 0o644, withoutDirSync.fs, { syncDirectory: false });
    expect(withoutDirSync.calls).toEqual(['open', 'fchmod', 'write', 'fsync', 'close', 'rename']);
  });

  it('on a failure at any step keeps the original file and removes the temporary file', async () => {
    const path = join(dir, 'fullchain.pem');
    const operationCount = 9;
    for (let failAt = 1; failAt <= operationCount; failAt++) {
      await writeFile(path, 'original\n', { mode: 0o644 });
      const faulty = faultyFs(failAt, 'fail-once');
      const result = await writeFileAtomic(path, 'replacement\n', 0o644, faulty.fs).then(
        () => undefined,
        (error: unknown) => error,
      );
      await faulty.dispose();
      expect(result, `fault at call ${failAt}`).toBeInstanceOf(OperationError);
      const content = await readFile(path, 'utf8');
      // Up to the rename the original must be intact; a fault after it (directory fsync) leaves the new file.
      expect(content, `fault at call ${failAt}`).toBe(failAt <= 6 ? 'original\n' : 'replacement\n');
      expect(await readdir(dir), `fault at call ${failAt}`).toEqual(['fullchain.pem']);
    }
  });

  it('after a crash at any step the file is the complete old or the complete new content', async () => {
    const path = join(dir, 'chain.pem');
    const oldContent = 'old '.repeat(50_000);
    const newContent = 'new '.repeat(60_000);
    for (let failAt = 1; failAt <= 9; failAt++) {
      await writeFile(path, oldContent);
      const faulty = faultyFs(failAt, 'crash');
      await writeFileAtomic(path, newContent, 0o644, faulty.fs).catch(() => undefined);
      await faulty.dispose();
      const content = await readFile(path, 'utf8');
      expect(content === oldContent || content === newContent, `crash at call ${failAt}`).toBe(true);
      expect(content === newContent, `crash at call ${failAt}`).toBe(failAt > 6);
    }
  });

  it('refuses to replace a directory and leaves no temporary file', async () => {
    await mkdir(join(dir, 'target'));
    await expect(writeFileAtomic(join(dir, 'target'), 'x', 0o644)).rejects.toBeInstanceOf(OperationError);
    expect(await readdir(dir)).toEqual(['target']);
  });
});

describe('fsyncDirectory', () => {
  it('fsyncs an existing directory and fails for a missing one', async () => {
    await expect(fsyncDirectory(dir)).resolves.toBeUndefined();
    await expect(fsyncDirectory(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
