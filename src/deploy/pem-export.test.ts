import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  readFile,
  readdir,
  readlink,
  realpath,
  rename,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { OperationError, UsageError } from '../domain/errors.js';
import { nodeExportFs, type ExportFs } from './export-fs.js';
import { faultyFs, type FaultMode } from '../../test/support/faulty-export-fs.js';
import { exportPem, exportedPaths, readExportedVersion, type ExtraFile } from './pem-export.js';
import type { PemFiles } from '../pki/pem-files.js';

const FILE_NAMES = ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem'] as const;
const FILE_KEYS: Record<(typeof FILE_NAMES)[number], keyof PemFiles> = {
  'cert.pem': 'certPem',
  'chain.pem': 'chainPem',
  'fullchain.pem': 'fullchainPem',
  'privkey.pem': 'keyPem',
};

/** Distinct, recognisable PEM texts for a version; `size` pads each file (bytes, roughly). */
function pemFiles(version: string, size = 200): PemFiles {
  const content = (file: string) => {
    const unit = `${file}:${version};`;
    return `# ${file} version ${version}\n${unit.repeat(Math.ceil(size / unit.length))}\n`;
  };
  return {
    certPem: content('cert'),
    chainPem: content('chain'),
    fullchainPem: content('fullchain'),
    keyPem: content('privkey'),
  };
}

/** Recognisable extra files for a version: a text combined.pem and a binary certificate.p12 (not valid UTF-8). */
function extraFiles(version: string, size = 200): ExtraFile[] {
  const unit = `combined:${version};`;
  const combined = `# combined version ${version}\n${unit.repeat(Math.ceil(size / unit.length))}\n`;
  const p12 = Buffer.concat([Buffer.from([0x30, 0x82, 0xff, 0xfe]), Buffer.from(`p12:${version};`.repeat(Math.ceil(size / 8)))]);
  return [
    { name: 'combined.pem', data: combined },
    { name: 'certificate.p12', data: new Uint8Array(p12) },
  ];
}

/**
 * Like {@link servedState}, for versions with extra files: the label of the candidate whose four PEM files and
 * extra files all match what `<out>/<name>` serves (and no extra file the candidate does not have is served).
 */
async function servedStateWithExtras(
  out: string,
  name: string,
  candidates: Record<string, { files: PemFiles; extras: ExtraFile[] }>,
): Promise<string> {
  if (!(await exists(join(out, name)))) return 'absent';
  const read = (file: string) => readFile(join(out, name, file)).catch(() => undefined);
  const served = new Map<string, Buffer | undefined>();
  for (const file of [...FILE_NAMES, 'combined.pem', 'certificate.p12']) served.set(file, await read(file));
  for (const [label, { files, extras }] of Object.entries(candidates)) {
    const expected = new Map<string, Buffer | undefined>([
      ...FILE_NAMES.map((file) => [file, Buffer.from(files[FILE_KEYS[file]])] as const),
      ['combined.pem', undefined],
      ['certificate.p12', undefined],
    ]);
    for (const extra of extras) expected.set(extra.name, Buffer.from(extra.data));
    const same = [...expected].every(([file, content]) => {
      const actual = served.get(file);
      return content === undefined ? actual === undefined : actual !== undefined && actual.equals(content);
    });
    if (same) return label;
  }
  const summary = [...served].map(([file, content]) =>
    `${file}: ${content === undefined ? 'missing' : `${JSON.stringify(content.toString('latin1').split('\n')[0])} (${content.length} bytes)`}`,
  );
  return `inconsistent: ${summary.join(', ')}`;
}

function countingFs() {
  return faultyFs(Number.POSITIVE_INFINITY, 'fail-once');
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * What `<out>/<name>` serves, read through the stable paths the way nginx would: the label of the candidate
 * whose four files all match byte for byte, 'absent' when `<out>/<name>` does not exist, or a description of
 * the inconsistency (a mix of versions, a missing or truncated file).
 */
async function servedState(out: string, name: string, candidates: Record<string, PemFiles>): Promise<string> {
  if (!(await exists(join(out, name)))) return 'absent';
  const served: Partial<Record<keyof PemFiles, string>> = {};
  for (const file of FILE_NAMES) {
    served[FILE_KEYS[file]] = await readFile(join(out, name, file), 'utf8').catch(() => undefined);
  }
  for (const [label, files] of Object.entries(candidates)) {
    if (FILE_NAMES.every((file) => served[FILE_KEYS[file]] === files[FILE_KEYS[file]])) return label;
  }
  const summary = FILE_NAMES.map((file) => {
    const text = served[FILE_KEYS[file]];
    return `${file}: ${text === undefined ? 'missing' : `${JSON.stringify(text.split('\n')[0])} (${text.length} bytes)`}`;
  });
  return `inconsistent: ${summary.join(', ')}`;
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777;
}

let root: string;
let savedUmask: number;

beforeEach(() => {
  root = tempDir('pem-export');
  savedUmask = process.umask();
});

afterEach(() => {
  process.umask(savedUmask);
});

describe('exportPem', () => {
  it('writes the four files with exact modes (0600 key, 0644 others) and 0700 directories, whatever the umask', async () => {
    process.umask(0o077); // would make cert.pem 0600 if modes were left to the umask
    const out = join(root, 'data', 'live'); // neither exists yet
    const paths = await exportPem({ outDir: out, name: 'example.com', version: '1', files: pemFiles('1') });

    expect(await modeOf(paths.privkey)).toBe(0o600);
    expect(await modeOf(paths.cert)).toBe(0o644);
    expect(await modeOf(paths.chain)).toBe(0o644);
    expect(await modeOf(paths.fullchain)).toBe(0o644);
    for (const dir of [
      join(root, 'data'),
      out,
      join(out, '.versions'),
      join(out, '.versions', 'example.com'),
      join(out, '.versions', 'example.com', '1'),
    ]) {
      expect(await modeOf(dir), dir).toBe(0o700);
    }
    expect(await servedState(out, 'example.com', { v1: pemFiles('1') })).toBe('v1');
  });

  it('sets 0700 on the directories it creates even with umask 0', async () => {
    process.umask(0);
    const out = join(root, 'live');
    await exportPem({ outDir: out, name: 'a', version: '1', files: pemFiles('1') });
    for (const dir of [out, join(out, '.versions'), join(out, '.versions', 'a'), join(out, '.versions', 'a', '1')]) {
      expect(await modeOf(dir), dir).toBe(0o700);
    }
    expect(await modeOf(join(out, 'a', 'privkey.pem'))).toBe(0o600);
  });

  it('leaves the mode of an export directory that already exists alone', async () => {
    const out = join(root, 'live');
    await mkdir(out);
    await chmod(out, 0o755);
    await exportPem({ outDir: out, name: 'a', version: '1', files: pemFiles('1') });
    expect(await modeOf(out)).toBe(0o755);
  });

  it('returns absolute paths through the stable link, equal to exportedPaths()', async () => {
    const relativeOut = join(root, 'x', '..', 'live');
    const paths = await exportPem({ outDir: relativeOut, name: 'example.com', version: '1', files: pemFiles('1') });
    const out = resolve(relativeOut);
    expect(paths).toEqual({
      dir: join(out, 'example.com'),
      cert: join(out, 'example.com', 'cert.pem'),
      chain: join(out, 'example.com', 'chain.pem'),
      fullchain: join(out, 'example.com', 'fullchain.pem'),
      privkey: join(out, 'example.com', 'privkey.pem'),
    });
    expect(exportedPaths(relativeOut, 'example.com')).toEqual(paths);
    for (const path of Object.values(paths)) expect(isAbsolute(path)).toBe(true);
  });

  it('makes <out>/<name> a relative symbolic link to .versions/<name>/<version> that resolves', async () => {
    const out = join(root, 'live');
    await exportPem({ outDir: out, name: 'example.com', version: '7', files: pemFiles('7') });
    const link = join(out, 'example.com');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('.versions/example.com/7');
    expect(await realpath(link)).toBe(await realpath(join(out, '.versions', 'example.com', '7')));
    expect(await readExportedVersion(out, 'example.com')).toBe('7');

    // Relative, so the tree still works after being moved (e.g. restored from a backup elsewhere).
    const moved = join(root, 'moved');
    await rename(out, moved);
    expect(await servedState(moved, 'example.com', { v7: pemFiles('7') })).toBe('v7');
  });

  it('switches all four files together to a new version', async () => {
    const out = join(root, 'live');
    await exportPem({ outDir: out, name: 'a', version: '1', files: pemFiles('1') });
    await exportPem({ outDir: out, name: 'a', version: '2', files: pemFiles('2') });
    expect(await servedState(out, 'a', { v1: pemFiles('1'), v2: pemFiles('2') })).toBe('v2');
    expect(await readExportedVersion(out, 'a')).toBe('2');
    expect(await readlink(join(out, 'a'))).toBe('.versions/a/2');
    expect(await modeOf(join(out, 'a', 'privkey.pem'))).toBe(0o600);
  });

  it('keeps a user’s real directory at <out>/<name> under .versions/<name>/previous-<timestamp>, forever', async () => {
    const out = join(root, 'live');
    const userDir = join(out, 'example.com');
    await mkdir(join(userDir, 'extra'), { recursive: true });
    await writeFile(join(userDir, 'fullchain.pem'), 'certbot fullchain\n');
    await writeFile(join(userDir, 'privkey.pem'), 'certbot key\n', { mode: 0o600 });
    await writeFile(join(userDir, 'extra', 'README'), 'my notes\n');

    await exportPem({ outDir: out, name: 'example.com', version: '1', files: pemFiles('1') });
    expect(await readlink(userDir)).toBe('.versions/example.com/1');
    expect(await servedState(out, 'example.com', { v1: pemFiles('1') })).toBe('v1');

    const versionsDir = join(out, '.versions', 'example.com');
    const preserved = (await readdir(versionsDir)).filter((entry) => entry.startsWith('previous-'));
    expect(preserved).toHaveLength(1);
    expect(preserved[0]).toMatch(/^previous-\d{8}T\d{9}Z$/);
    const kept = join(versionsDir, preserved[0]!);
    expect(await readFile(join(kept, 'fullchain.pem'), 'utf8')).toBe('certbot fullchain\n');
    expect(await readFile(join(kept, 'privkey.pem'), 'utf8')).toBe('certbot key\n');
    expect(await readFile(join(kept, 'extra', 'README'), 'utf8')).toBe('my notes\n');

    // Later exports prune old versions but never the user's directory.
    for (const version of ['2', '3', '4']) {
      await exportPem({ outDir: out, name: 'example.com', version, files: pemFiles(version) });
    }
    expect((await readdir(versionsDir)).sort()).toEqual(['3', '4', preserved[0]!].sort());
    expect(await readFile(join(kept, 'extra', 'README'), 'utf8')).toBe('my notes\n');
  });

  it('refuses, and leaves alone, a plain file or a foreign symbolic link at <out>/<name>', async () => {
    const out = join(root, 'live');
    await mkdir(out);
    await writeFile(join(out, 'file.example'), 'mine\n');
    await expect(
      exportPem({ outDir: out, name: 'file.example', version: '1', files: pemFiles('1') }),
    ).rejects.toBeInstanceOf(OperationError);
    expect(await readFile(join(out, 'file.example'), 'utf8')).toBe('mine\n');

    await mkdir(join(root, 'elsewhere'));
    await symlink(join(root, 'elsewhere'), join(out, 'link.example'));
    const error = await exportPem({ outDir: out, name: 'link.example', version: '1', files: pemFiles('1') }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).hint).toMatch(/remove the link/);
    expect(await readlink(join(out, 'link.example'))).toBe(join(root, 'elsewhere'));
    expect(await readdir(join(root, 'elsewhere'))).toEqual([]);
  });

  it('fails with an OperationError when the export directory is a file', async () => {
    await writeFile(join(root, 'live'), 'not a directory\n');
    const request = { outDir: join(root, 'live'), name: 'a', version: '1', files: pemFiles('1') };
    await expect(exportPem(request)).rejects.toBeInstanceOf(OperationError);
    expect(await readFile(join(root, 'live'), 'utf8')).toBe('not a directory\n');
  });

  it('prunes old version directories, keeping the current one and the one before', async () => {
    const out = join(root, 'live');
    for (const version of ['1', '2', '3', '4']) {
      await exportPem({ outDir: out, name: 'a', version, files: pemFiles(version) });
    }
    // Another name's versions are not touched.
    await exportPem({ outDir: out, name: 'b', version: '1', files: pemFiles('b1') });
    await exportPem({ outDir: out, name: 'b', version: '2', files: pemFiles('b2') });
    await exportPem({ outDir: out, name: 'a', version: '5', files: pemFiles('5') });
    expect((await readdir(join(out, '.versions', 'a'))).sort()).toEqual(['4', '5']);
    expect((await readdir(join(out, '.versions', 'b'))).sort()).toEqual(['1', '2']);
    expect((await readdir(out)).sort()).toEqual(['.versions', 'a', 'b']);

    // Going back to an older version is a switch like any other.
    await exportPem({ outDir: out, name: 'a', version: '4', files: pemFiles('4') });
    expect(await servedState(out, 'a', { v4: pemFiles('4'), v5: pemFiles('5') })).toBe('v4');
    expect((await readdir(join(out, '.versions', 'a'))).sort()).toEqual(['4', '5']);
  });

  // Node's recursive mkdir retried /proc/x forever (mkdir answers ENOENT there while /proc exists).
  it.each(['/proc/acmectl-test', '/proc/self/acmectl-test/live'])('fails, and returns, when <out> (%s) cannot be created', async (out) => {
    await expect(exportPem({ outDir: out, name: 'a', version: '1', files: pemFiles('1') })).rejects.toThrow(OperationError);
  }, 10_000);

  it('re-exporting the linked version with identical content is a no-op that returns the paths', async () => {
    const out = join(root, 'live');
    const first = await exportPem({ outDir: out, name: 'a', version: '3', files: pemFiles('3') });
    const inodeBefore = (await stat(first.privkey)).ino;
    const counting = countingFs();
    const second = await exportPem({ outDir: out, name: 'a', version: '3', files: pemFiles('3') }, counting.fs);
    expect(second).toEqual(first);
    expect((await stat(second.privkey)).ino).toBe(inodeBefore);
    // Only looks: nothing created, written, renamed or removed.
    expect(new Set(counting.calls)).toEqual(new Set(['stat', 'lstat', 'readlink', 'readFile']));
    expect(counting.calls.filter((op) => op === 'stat')).toHaveLength(1); // <out> exists: nothing to create
  });

  it('repairs a linked version whose files were edited, without modifying the served directory in place', async () => {
    const out = join(root, 'live');
    await exportPem({ outDir: out, name: 'a', version: '3', files: pemFiles('3') });
    const servedDir = join(out, '.versions', 'a', '3');
    await writeFile(join(servedDir, 'fullchain.pem'), 'edited by hand\n');
    await chmod(join(servedDir, 'privkey.pem'), 0o644);

    await exportPem({ outDir: out, name: 'a', version: '3', files: pemFiles('3') });
    expect(await servedState(out, 'a', { v3: pemFiles('3') })).toBe('v3');
    expect(await readlink(join(out, 'a'))).toMatch(/^\.versions\/a\/3~[0-9a-f]{12}$/);
    expect(await modeOf(join(out, 'a', 'privkey.pem'))).toBe(0o600);
    expect(await readExportedVersion(out, 'a')).toBe('3');
    // The edited directory was the one linked before: kept as it was.
    expect(await readFile(join(servedDir, 'fullchain.pem'), 'utf8')).toBe('edited by hand\n');

    // The next version prunes the edited directory and keeps the repaired copy as the previous version.
    const repairedDirName = (await readlink(join(out, 'a'))).split('/').pop()!;
    await exportPem({ outDir: out, name: 'a', version: '4', files: pemFiles('4') });
    expect((await readdir(join(out, '.versions', 'a'))).sort()).toEqual(['4', repairedDirName].sort());
  });

  it('rewrites a leftover directory of the requested version from an interrupted attempt', async () => {
    const out = join(root, 'live');
    await exportPem({ outDir: out, name: 'a', version: '1', files: pemFiles('1') });
    const leftover = join(out, '.versions', 'a', '2');
    await mkdir(leftover);
    await writeFile(join(leftover, 'cert.pem'), 'truncat');
    await writeFile(join(leftover, '.privkey.pem.tmp-0123456789ab'), 'half');
    await exportPem({ outDir: out, name: 'a', version: '2', files: pemFiles('2') });
    expect(await servedState(out, 'a', { v2: pemFiles('2') })).toBe('v2');
    expect((await readdir(leftover)).sort()).toEqual([...FILE_NAMES].sort());
  });

  it('exports different names into one directory concurrently', async () => {
    const out = join(root, 'live');
    const names = ['a.example', 'b.example', 'c.example', 'd.example'];
    await Promise.all(names.map((name) => exportPem({ outDir: out, name, version: '1', files: pemFiles(name) })));
    for (const name of names) expect(await servedState(out, name, { ok: pemFiles(name) })).toBe('ok');
  });

  it('writes the extra files (0600) into the version directory and returns their paths', async () => {
    process.umask(0);
    const out = join(root, 'live');
    const paths = await exportPem({ outDir: out, name: 'a', version: '1', files: pemFiles('1'), extraFiles: extraFiles('1') });
    expect(paths).toEqual({
      ...exportedPaths(out, 'a'),
      combined: join(out, 'a', 'combined.pem'),
      pkcs12: join(out, 'a', 'certificate.p12'),
    });
    expect(await modeOf(paths.combined!)).toBe(0o600);
    expect(await modeOf(paths.pkcs12!)).toBe(0o600);
    expect(await modeOf(paths.cert)).toBe(0o644);
    expect((await readdir(join(out, '.versions', 'a', '1'))).sort()).toEqual(
      [...FILE_NAMES, 'certificate.p12', 'combined.pem'].sort(),
    );
    expect(await servedStateWithExtras(out, 'a', { v1: { files: pemFiles('1'), extras: extraFiles('1') } })).toBe('v1');

    // Only the extra files asked for; the next version switches them together with the PEM files.
    const onlyCombined = extraFiles('2').filter((extra) => extra.name === 'combined.pem');
    const second = await exportPem({ outDir: out, name: 'a', version: '2', files: pemFiles('2'), extraFiles: onlyCombined });
    expect(second.pkcs12).toBeUndefined();
    expect(second.combined).toBe(join(out, 'a', 'combined.pem'));
    expect(await servedStateWithExtras(out, 'a', { v2: { files: pemFiles('2'), extras: onlyCombined } })).toBe('v2');
    // Without extra files: the same paths as before this option existed.
    const third = await exportPem({ outDir: out, name: 'a', version: '3', files: pemFiles('3'), extraFiles: [] });
    expect(third).toEqual(exportedPaths(out, 'a'));
    expect(await servedStateWithExtras(out, 'a', { v3: { files: pemFiles('3'), extras: [] } })).toBe('v3');
  });

  it('re-exporting the linked version with identical extra files is a no-op', async () => {
    const out = join(root, 'live');
    const request = { outDir: out, name: 'a', version: '3', files: pemFiles('3'), extraFiles: extraFiles('3') };
    const first = await exportPem(request);
    const inodeBefore = (await stat(first.pkcs12!)).ino;
    const counting = countingFs();
    const second = await exportPem({ ...request, extraFiles: extraFiles('3') }, counting.fs);
    expect(second).toEqual(first);
    expect((await stat(second.pkcs12!)).ino).toBe(inodeBefore);
    expect(new Set(counting.calls)).toEqual(new Set(['stat', 'lstat', 'readlink', 'readFile']));
    expect(await readlink(join(out, 'a'))).toBe('.versions/a/3');
  });

  it('writes a fresh copy of the linked version when an extra file is missing, differs, or was not asked for', async () => {
    const out = join(root, 'live');
    const files = pemFiles('3');
    const servedDir = join(out, '.versions', 'a', '3');
    const combinedOnly = extraFiles('3').filter((extra) => extra.name === 'combined.pem');
    await exportPem({ outDir: out, name: 'a', version: '3', files, extraFiles: combinedOnly });

    // certificate.p12 asked for now, missing from the linked directory.
    await exportPem({ outDir: out, name: 'a', version: '3', files, extraFiles: extraFiles('3') });
    const repaired1 = await readlink(join(out, 'a'));
    expect(repaired1).toMatch(/^\.versions\/a\/3~[0-9a-f]{12}$/);
    expect(await servedStateWithExtras(out, 'a', { ok: { files, extras: extraFiles('3') } })).toBe('ok');
    expect(await exists(join(servedDir, 'certificate.p12'))).toBe(false); // the directory served before: untouched

    // certificate.p12 with other content (e.g. another password).
    const otherP12 = extraFiles('3').map((extra) =>
      extra.name === 'certificate.p12' ? { ...extra, data: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x03]) } : extra,
    );
    await exportPem({ outDir: out, name: 'a', version: '3', files, extraFiles: otherP12 });
    const repaired2 = await readlink(join(out, 'a'));
    expect(repaired2).not.toBe(repaired1);
    expect(await servedStateWithExtras(out, 'a', { ok: { files, extras: otherP12 } })).toBe('ok');

    // A served extra file no longer asked for goes away with a fresh copy.
    await exportPem({ outDir: out, name: 'a', version: '3', files, extraFiles: combinedOnly });
    expect(await readlink(join(out, 'a'))).not.toBe(repaired2);
    expect(await servedStateWithExtras(out, 'a', { ok: { files, extras: combinedOnly } })).toBe('ok');
    expect(await readExportedVersion(out, 'a')).toBe('3');

    // A damaged extra file (mode or content) is repaired like a damaged PEM file.
    const linked = await readlink(join(out, 'a'));
    await chmod(join(out, 'a', 'combined.pem'), 0o644);
    await exportPem({ outDir: out, name: 'a', version: '3', files, extraFiles: combinedOnly });
    expect(await readlink(join(out, 'a'))).not.toBe(linked);
    expect(await modeOf(join(out, 'a', 'combined.pem'))).toBe(0o600);
  });

  it('rejects unknown, repeated or empty extra files with a UsageError before touching anything', async () => {
    const out = join(root, 'live');
    const files = pemFiles('1');
    const bad: unknown[] = [
      [{ name: 'fullchain.pem', data: 'x' }],
      [{ name: '../combined.pem', data: 'x' }],
      [{ name: 'combined.pem', data: 'x' }, { name: 'combined.pem', data: 'y' }],
      [{ name: 'certificate.p12', data: undefined }],
      [{ name: 'certificate.p12', data: 42 }],
      [null],
      'combined.pem',
    ];
    for (const extra of bad) {
      await expect(
        exportPem({ outDir: out, name: 'a', version: '1', files, extraFiles: extra as ExtraFile[] }),
        JSON.stringify(extra),
      ).rejects.toBeInstanceOf(UsageError);
    }
    expect(await exists(out)).toBe(false);
  });

  it('rejects unsafe names and versions with a UsageError before touching anything', async () => {
    const out = join(root, 'live');
    const badSegments = ['', '.', '..', '.hidden', '-dash', 'a/b', 'a\\b', 'a..b', 'a b', 'a\u0000b', 'é', '~1'];
    badSegments.push('x'.repeat(201));
    const files = pemFiles('1');
    for (const bad of badSegments) {
      const label = JSON.stringify(bad);
      await expect(exportPem({ outDir: out, name: bad, version: '1', files }), `name ${label}`).rejects.toBeInstanceOf(
        UsageError,
      );
      await expect(exportPem({ outDir: out, name: 'a', version: bad, files }), `version ${label}`).rejects.toBeInstanceOf(
        UsageError,
      );
      expect(() => exportedPaths(out, bad)).toThrow(UsageError);
      await expect(readExportedVersion(out, bad)).rejects.toBeInstanceOf(UsageError);
    }
    await expect(exportPem({ outDir: out, name: 'a', version: 'previous-1', files })).rejects.toBeInstanceOf(UsageError);
    const withoutKey = { ...files, keyPem: undefined as unknown as string };
    await expect(exportPem({ outDir: out, name: 'a', version: '1', files: withoutKey })).rejects.toBeInstanceOf(
      UsageError,
    );
    expect(await exists(out)).toBe(false);
  });
});

describe('readExportedVersion', () => {
  it('is null when nothing is exported, for a user directory, for a foreign or dangling link', async () => {
    const out = join(root, 'live');
    expect(await readExportedVersion(out, 'a')).toBeNull();
    await mkdir(join(out, 'user'), { recursive: true });
    expect(await readExportedVersion(out, 'user')).toBeNull();
    await symlink(root, join(out, 'foreign'));
    expect(await readExportedVersion(out, 'foreign')).toBeNull();
    await symlink('.versions/dangling/4', join(out, 'dangling'));
    expect(await readExportedVersion(out, 'dangling')).toBeNull();
    await exportPem({ outDir: out, name: 'a', version: '2024-05-01.1', files: pemFiles('1') });
    expect(await readExportedVersion(out, 'a')).toBe('2024-05-01.1');
  });
});

describe('exportPem interrupted at every file-system operation', () => {
  const name = 'example.com';
  const v0 = pemFiles('0', 3000);
  const v1 = pemFiles('1', 3000);
  const v2 = pemFiles('2', 3000);
  const v3 = pemFiles('3', 3000);
  const modes: FaultMode[] = ['crash', 'fail-once'];

  /**
   * The real fs except that fsync returns at once: a simulated crash is about the order of the steps, not about
   * what the disk keeps. Every fsync call is still made and counted, so it is still a step where the export can
   * be interrupted.
   */
  const fastFs: ExportFs = { ...nodeExportFs, fsync: async () => undefined };

  /** v0 then v1 exported: v1 linked, v0 kept as the previous version. */
  async function setUpV1(out: string) {
    await exportPem({ outDir: out, name, version: '0', files: v0 }, fastFs);
    await exportPem({ outDir: out, name, version: '1', files: v1 }, fastFs);
  }

  async function countOperations(setUp: (out: string) => Promise<void>) {
    const out = join(root, 'count');
    await setUp(out);
    const counting = faultyFs(Number.POSITIVE_INFINITY, 'fail-once', fastFs);
    await exportPem({ outDir: out, name, version: '2', files: v2 }, counting.fs);
    return counting.calls;
  }

  /**
   * Runs `interruptedExport` once per fault mode and per call number 1..calls.length, in a fresh directory
   * each time, a few cases at a time (creating files is slow on some disks; the cases are independent).
   */
  async function forEveryFault(
    calls: string[],
    interruptedExport: (out: string, faulty: ReturnType<typeof faultyFs>, where: string) => Promise<void>,
  ) {
    const cases = modes.flatMap((mode) => calls.map((op, index) => ({ mode, failAt: index + 1, op })));
    const runCase = async ({ mode, failAt, op }: (typeof cases)[number]) => {
      const faulty = faultyFs(failAt, mode, fastFs);
      try {
        const where = `${mode} at call ${failAt} of ${calls.length} (${op})`;
        await interruptedExport(join(root, `${mode}-${failAt}`), faulty, where);
      } finally {
        await faulty.dispose();
      }
    };
    const concurrency = 8;
    for (let start = 0; start < cases.length; start += concurrency) {
      await Promise.all(cases.slice(start, start + concurrency).map(runCase));
    }
  }

  /**
   * After any interruption the next normal export succeeds, and cleans up: only its version and the one served
   * before it remain, and no temporary link.
   */
  async function expectRecovery(out: string, servedBefore: string, where: string) {
    await exportPem({ outDir: out, name, version: '3', files: v3 }, fastFs);
    expect(await servedState(out, name, { v3 }), where).toBe('v3');
    const versionDirs = (await readdir(join(out, '.versions', name))).filter((entry) => !entry.startsWith('previous-'));
    const expected = servedBefore === 'v2' ? ['2', '3'] : servedBefore === 'v1' ? ['1', '3'] : ['3'];
    expect(versionDirs.sort(), where).toEqual(expected);
    expect((await readdir(out)).sort(), where).toEqual(['.versions', name]); // no temporary link left behind
    expect(await modeOf(join(out, name, 'privkey.pem')), where).toBe(0o600);
    expect(await modeOf(join(out, '.versions', name, '3')), where).toBe(0o700);
  }

  it('replacing v1 by v2 always leaves v1 complete or v2 complete', async () => {
    const calls = await countOperations(setUpV1);
    // Every kind of step is among those interrupted below.
    const kinds = ['stat', 'mkdir', 'lstat', 'readlink', 'rm', 'chmod', 'open', 'fchmod', 'write', 'fsync', 'close', 'rename'];
    expect(new Set(calls)).toEqual(new Set([...kinds, 'symlink', 'readdir']));
    const seen = new Set<string>();
    await forEveryFault(calls, async (out, faulty, where) => {
      await setUpV1(out);
      const outcome = await exportPem({ outDir: out, name, version: '2', files: v2 }, faulty.fs).then(
        () => 'resolved',
        (error: unknown) => error,
      );
      const state = await servedState(out, name, { v1, v2 });
      seen.add(state);
      expect(['v1', 'v2'], where).toContain(state);
      if (where.startsWith('fail-once')) {
        if (outcome !== 'resolved') expect(outcome, where).toBeInstanceOf(OperationError);
        // An ordinary error removes its temporary link.
        expect((await readdir(out)).filter((entry) => entry.startsWith('.') && entry !== '.versions'), where).toEqual([]);
      }
      await expectRecovery(out, state, where);
    });
    expect([...seen].sort()).toEqual(['v1', 'v2']); // both sides of the switch were exercised
  });

  it('with combined.pem and certificate.p12, never serves an extra file of one version beside privkey.pem of another', async () => {
    const withExtras = (version: string) => ({ files: pemFiles(version, 3000), extras: extraFiles(version, 3000) });
    const [x1, x2, x3] = [withExtras('1'), withExtras('2'), withExtras('3')];
    const exportWith = (out: string, version: string, v: typeof x1, fs: ExportFs) =>
      exportPem({ outDir: out, name, version, files: v.files, extraFiles: v.extras }, fs);
    const setUp = async (out: string) => {
      await exportPem({ outDir: out, name, version: '0', files: v0 }, fastFs); // without extra files
      await exportWith(out, '1', x1, fastFs);
    };
    const out0 = join(root, 'count-extras');
    await setUp(out0);
    const counting = faultyFs(Number.POSITIVE_INFINITY, 'fail-once', fastFs);
    await exportWith(out0, '2', x2, counting.fs);
    const calls = counting.calls;
    expect(calls.length).toBeGreaterThan((await countOperations(setUpV1)).length); // the extra files are written too

    const seen = new Set<string>();
    await forEveryFault(calls, async (out, faulty, where) => {
      await setUp(out);
      await exportWith(out, '2', x2, faulty.fs).catch(() => undefined);
      const state = await servedStateWithExtras(out, name, { v1: x1, v2: x2 });
      seen.add(state);
      expect(['v1', 'v2'], where).toContain(state);
      // Recovery: the next export serves v3 with its extra files, 0600, and cleans up.
      await exportWith(out, '3', x3, fastFs);
      expect(await servedStateWithExtras(out, name, { v3: x3 }), where).toBe('v3');
      expect((await readdir(join(out, '.versions', name))).sort(), where).toEqual([state === 'v2' ? '2' : '1', '3']);
      expect((await readdir(out)).sort(), where).toEqual(['.versions', name]);
      expect(await modeOf(join(out, name, 'combined.pem')), where).toBe(0o600);
      expect(await modeOf(join(out, name, 'certificate.p12')), where).toBe(0o600);
    });
    expect([...seen].sort()).toEqual(['v1', 'v2']);
  });

  it('a first export leaves nothing or the complete version', async () => {
    const calls = await countOperations(async () => undefined);
    const seen = new Set<string>();
    await forEveryFault(calls, async (out, faulty, where) => {
      await exportPem({ outDir: out, name, version: '2', files: v2 }, faulty.fs).catch(() => undefined);
      const state = await servedState(out, name, { v2 });
      seen.add(state);
      expect(['absent', 'v2'], where).toContain(state);
      await expectRecovery(out, state, where);
    });
    expect([...seen].sort()).toEqual(['absent', 'v2']);
  });

  it('an export over a user directory never loses the user’s files', async () => {
    const userFiles = pemFiles('user', 500);
    const setUpUserDir = async (out: string) => {
      await mkdir(join(out, name), { recursive: true });
      for (const file of FILE_NAMES) await writeFile(join(out, name, file), userFiles[FILE_KEYS[file]]);
    };
    const calls = await countOperations(setUpUserDir);
    const seen = new Set<string>();
    await forEveryFault(calls, async (out, faulty, where) => {
      await setUpUserDir(out);
      await exportPem({ outDir: out, name, version: '2', files: v2 }, faulty.fs).catch(() => undefined);
      const state = await servedState(out, name, { user: userFiles, v2 });
      seen.add(state);
      // 'absent' only if the process died between moving the user's directory away and placing the link.
      expect(where.startsWith('fail-once') ? ['user', 'v2'] : ['absent', 'user', 'v2'], where).toContain(state);
      const preserved = (await exists(join(out, '.versions', name)))
        ? (await readdir(join(out, '.versions', name))).filter((entry) => entry.startsWith('previous-'))
        : [];
      if (state === 'user') {
        expect(preserved, where).toEqual([]);
      } else {
        expect(preserved, where).toHaveLength(1);
        const kept = join(out, '.versions', name, preserved[0]!);
        for (const file of FILE_NAMES) {
          expect(await readFile(join(kept, file), 'utf8'), where).toBe(userFiles[FILE_KEYS[file]]);
        }
      }
      await expectRecovery(out, state, where);
    });
    expect([...seen].sort()).toEqual(['absent', 'user', 'v2']);
  });
});

describe('exportPem in a process killed with SIGKILL', () => {
  const workerPath = fileURLToPath(new URL('../../test/support/pem-export-crash-worker.mjs', import.meta.url));
  const builtModule = fileURLToPath(new URL('../../dist/deploy/pem-export.js', import.meta.url));
  const sources = ['pem-export.ts', 'atomic-file.ts', 'export-fs.ts'].map((file) =>
    join(dirname(fileURLToPath(import.meta.url)), file),
  );
  const bytesPerFile = 256 * 1024;

  it('always leaves one complete version, and the next export succeeds', async () => {
    // The child runs the build output: make sure it is the code under test.
    expect(existsSync(builtModule), `${builtModule} is missing: run "npm run build" first`).toBe(true);
    const builtAt = statSync(builtModule).mtimeMs;
    for (const source of sources) {
      expect(statSync(source).mtimeMs <= builtAt, `${builtModule} is older than ${source}: run "npm run build"`).toBe(true);
    }

    const out = join(root, 'live');
    const name = 'crash.example';
    await exportPem({ outDir: out, name, version: '1', files: pemFiles('1', bytesPerFile) });
    let firstVersion = 2;
    for (let round = 0; round < 4; round++) {
      await runAndKill(out, name, firstVersion, Math.random() * 80);
      const served = await readExportedVersion(out, name);
      expect(served).not.toBeNull();
      expect(Number(served)).toBeLessThan(firstVersion + 1000);
      expect(await servedState(out, name, { ok: pemFiles(served!, bytesPerFile) }), `round ${round}`).toBe('ok');
      firstVersion += 1000;
    }
    await exportPem({ outDir: out, name, version: 'final', files: pemFiles('final', 10) });
    expect(await servedState(out, name, { final: pemFiles('final', 10) })).toBe('final');
    expect((await readdir(out)).sort()).toEqual(['.versions', name]);
  });

  function runAndKill(out: string, name: string, firstVersion: number, delayMs: number): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [workerPath, out, name, String(firstVersion), String(bytesPerFile)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delayMs));
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (signal === 'SIGKILL') resolvePromise();
        else reject(new Error(`worker exited with ${code ?? signal} instead of being killed: ${stderr}`));
      });
    });
  }
});
