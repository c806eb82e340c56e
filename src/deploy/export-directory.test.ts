import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { UsageError } from '../domain/errors.js';
import { prepareExportDirectory } from './export-directory.js';
import { nodeExportFs, type ExportFs } from './export-fs.js';
import { makeDirectories } from './make-directories.js';

async function refusal(path: string): Promise<UsageError> {
  const error: unknown = await prepareExportDirectory(path, '--out').then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('prepareExportDirectory', () => {
  it('creates a missing directory (and its parents) with mode 0700, and leaves nothing in it', async () => {
    const root = tempDir('export-dir');
    const out = join(root, 'a', 'b', 'live');
    await prepareExportDirectory(out, '--out');
    for (const dir of [join(root, 'a'), join(root, 'a', 'b'), out]) expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(out)).toEqual([]);
  });

  it('leaves an existing directory as it is', async () => {
    const root = tempDir('export-dir');
    mkdirSync(join(root, 'live'), { mode: 0o755 });
    writeFileSync(join(root, 'live', 'keep'), 'x');
    await prepareExportDirectory(join(root, 'live'), '--out');
    expect(statSync(join(root, 'live')).mode & 0o777).toBe(0o755);
    expect(readdirSync(join(root, 'live'))).toEqual(['keep']);
  });

  it('refuses a file, a path under a file, and /dev/null, naming the file', async () => {
    const root = tempDir('export-dir');
    writeFileSync(join(root, 'file'), 'x');
    expect((await refusal(join(root, 'file'))).message).toBe(`--out ${join(root, 'file')} cannot be used: ${join(root, 'file')} exists and is not a directory`);
    expect((await refusal(join(root, 'file', 'sub'))).message).toMatch(/cannot create the directory .*\/file\/sub: .*\/file is not a directory/);
    expect((await refusal('/dev/null')).message).toMatch(/^--out \/dev\/null cannot be used: \/dev\/null exists and is not a directory/);
    expect(existsSync(join(root, 'file', 'sub'))).toBe(false);
  });

  it.each(['/sys', '/sys/acmectl-test', '/proc', '/proc/acmectl-test', '/proc/self/acmectl/x'])('refuses %s, and returns', async (path) => {
    expect((await refusal(path)).message).toMatch(new RegExp(`^--out ${path} cannot be used: `));
  });
});

describe('makeDirectories', () => {
  it('takes a directory another process created meanwhile as it is', async () => {
    const root = tempDir('export-dir');
    const target = join(root, 'x');
    // stat says missing; by the time of mkdir, someone else has created it.
    const racing: ExportFs = {
      ...nodeExportFs,
      mkdir: async (path, options) => {
        mkdirSync(path);
        return nodeExportFs.mkdir(path, options);
      },
    };
    expect(await makeDirectories(racing, target, 0o700)).toEqual([]);
    expect(statSync(target).isDirectory()).toBe(true);
  });

  it('asks mkdir once per missing directory, even where mkdir keeps answering ENOENT (as /proc does)', async () => {
    const calls: string[] = [];
    const procLike: ExportFs = {
      ...nodeExportFs,
      stat: async (path) => {
        if (path === '/virtual') return nodeExportFs.stat('/');
        throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      },
      mkdir: async (path) => {
        calls.push(path);
        throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      },
    };
    await expect(makeDirectories(procLike, '/virtual/a/b', 0o700)).rejects.toThrow(/ENOENT: \/virtual\/a$/);
    expect(calls).toEqual(['/virtual/a']);
  });
});
