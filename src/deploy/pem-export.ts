/**
 * Exporting a certificate as PEM files for web servers: `<out>/<name>/{cert,chain,fullchain,privkey}.pem`, and
 * optionally `combined.pem` and `certificate.p12` (made by formats.ts) beside them.
 *
 * Layout on disk:
 *
 *     <out>/<name>                         -> .versions/<name>/<version>   (relative symbolic link)
 *     <out>/.versions/<name>/<version>/    cert.pem chain.pem fullchain.pem privkey.pem [combined.pem certificate.p12]
 *     <out>/.versions/<name>/previous-<timestamp>/   what a user had at <out>/<name> before acmectl
 *
 * Why a directory swap: renaming four files one after the other is four separate atomic steps, and a crash
 * between two of them leaves a `fullchain.pem` of one version next to a `privkey.pem` of another, which a web
 * server refuses to load. Instead each version is written completely into its own directory, and the only step
 * that changes what `<out>/<name>/…` resolves to is a single `rename()` of a new symbolic link over the old one.
 * Readers that open `<out>/<name>/fullchain.pem` and `<out>/<name>/privkey.pem` therefore always get one version.
 *
 * Concurrency: exports of different names into one `<out>` may run in parallel; exports of the same name must
 * be serialised by the caller (the certificate's store lock does that).
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AcmectlError, OperationError, UsageError } from '../domain/errors.js';
import { describeError, fsyncDirectory, writeFileAtomic } from './atomic-file.js';
import { errorCode, nodeExportFs, type ExportFs } from './export-fs.js';
import { makeDurableDirectories } from './make-directories.js';
import type { PemFiles } from '../pki/pem-files.js';
import { DEFAULT_KEY_ACCESS, directoryModeFor, type KeyAccess } from './key-access.js';


export interface PemExportRequest {
  /** The export directory (`--out`); created with mode 0700 when missing. */
  outDir: string;
  /** The certificate name: `^[A-Za-z0-9][A-Za-z0-9._-]*$`, no `..`. */
  name: string;
  /** The certificate version from the store, e.g. "3": same rules as `name`, and not starting with `previous-`. */
  version: string;
  files: PemFiles;
  /**
   * Files of other formats of the same version (see formats.ts), written with mode 0600 into the same version
   * directory, so that they switch together with `privkey.pem`. Each name at most once.
   */
  extraFiles?: ExtraFile[];
  /**
   * Mode and group of the files holding the private key (privkey.pem and the extra files) and, through
   * directoryModeFor, of the directories on their way. Default: 0600, group unchanged.
   */
  keyAccess?: KeyAccess;
}

/** The names of the extra files an export may hold besides the four PEM files. */
export const EXTRA_FILE_NAMES = ['combined.pem', 'certificate.p12'] as const;
export type ExtraFileName = (typeof EXTRA_FILE_NAMES)[number];

export interface ExtraFile {
  name: ExtraFileName;
  data: string | Uint8Array;
}

/** Absolute paths of the exported files, through the stable link `<out>/<name>` (what nginx and hooks use). */
export interface ExportedPaths {
  /** `<out>/<name>` */
  dir: string;
  cert: string;
  chain: string;
  fullchain: string;
  privkey: string;
  /** `<out>/<name>/combined.pem`, when the export wrote it. */
  combined?: string;
  /** `<out>/<name>/certificate.p12`, when the export wrote it. */
  pkcs12?: string;
}

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Leaves room for the prefixes and suffixes of temporary names within NAME_MAX (255). */
const MAX_SEGMENT_LENGTH = 200;
const VERSIONS_DIR_NAME = '.versions';
/** Prefix of the directories holding what a user had at `<out>/<name>`; never pruned. */
const PRESERVED_PREFIX = 'previous-';
/**
 * Separates a version from the random suffix of a repaired copy (`3~a1b2c3d4e5f6`), made when the linked
 * directory of the requested version no longer holds the expected files. `~` cannot occur in a version.
 */
const REPAIR_SEPARATOR = '~';
const DIRECTORY_MODE = 0o700;
const PUBLIC_FILE_MODE = 0o644;
const PRIVATE_FILE_MODE = 0o600;

/** The four files, in the order they are written, with their modes. */
const PEM_FILE_LAYOUT: ReadonlyArray<{ key: keyof PemFiles; fileName: string; mode: number }> = [
  { key: 'keyPem', fileName: 'privkey.pem', mode: PRIVATE_FILE_MODE },
  { key: 'certPem', fileName: 'cert.pem', mode: PUBLIC_FILE_MODE },
  { key: 'chainPem', fileName: 'chain.pem', mode: PUBLIC_FILE_MODE },
  { key: 'fullchainPem', fileName: 'fullchain.pem', mode: PUBLIC_FILE_MODE },
];

/** Where each extra file appears in {@link ExportedPaths}. All of them hold the private key: mode 0600. */
const EXTRA_FILE_PATH_KEYS: Record<ExtraFileName, 'combined' | 'pkcs12'> = {
  'combined.pem': 'combined',
  'certificate.p12': 'pkcs12',
};

/** One file of a version directory, as planned: name, content, mode and group (null: the owner's). */
interface PlannedFile {
  fileName: string;
  data: string | Uint8Array;
  mode: number;
  gid: number | null;
}

/**
 * The stable paths of a certificate's exported files under `outDir` (made absolute against the current
 * directory). No file-system access. Throws {@link UsageError} for an unsafe `name`.
 */
export function exportedPaths(outDir: string, name: string): ExportedPaths {
  assertSafeSegment('certificate name', name);
  const dir = join(resolve(outDir), name);
  return {
    dir,
    cert: join(dir, 'cert.pem'),
    chain: join(dir, 'chain.pem'),
    fullchain: join(dir, 'fullchain.pem'),
    privkey: join(dir, 'privkey.pem'),
  };
}

/**
 * Write one version of a certificate's PEM files under `<outDir>/<name>` and switch the stable link to it.
 *
 * Guarantees:
 * - Atomic switch: at every moment `<out>/<name>` resolves to one complete version (the old or the new one),
 *   never a mix and never a truncated file, also after a crash or power loss at any point (every file and
 *   directory change is fsynced before the link moves). The one exception is the first export over a real
 *   directory that a user or certbot left at `<out>/<name>`: that directory is moved to
 *   `<out>/.versions/<name>/previous-<timestamp>` right before the link takes its place, and a crash between
 *   those two renames leaves `<out>/<name>` absent (its files are kept; the next export places the link).
 * - Nothing a user had is lost: such a directory is kept under `previous-<timestamp>` and never pruned; any
 *   other kind of file at `<out>/<name>` (a plain file, a symbolic link acmectl did not make) makes the export
 *   fail with an {@link OperationError} and is left alone.
 * - Modes are set explicitly, whatever the umask: directories acmectl creates 0700, `privkey.pem` and the extra
 *   files (`combined.pem`, `certificate.p12`) 0600, the other files 0644.
 * - Idempotent: when the link already points to `version` and its files have exactly this content and these
 *   modes (extra files included, and no extra file that was not asked for), nothing is written. If they differ
 *   (edited, damaged, or another set of extra files), a fresh copy of the version is written beside them and the
 *   link switched to it; the directory being served is never modified in place.
 * - A leftover directory of the same version from an interrupted attempt (not linked) is removed and rewritten.
 * - After a switch, version directories of this name other than the new one and the one linked before are
 *   removed, as are temporary links left by crashed runs. This housekeeping is best effort: its failures do
 *   not fail the export, and the next export retries it.
 *
 * On failure before the switch, the previous state stays as it was (the half-written version directory is
 * left for the next attempt to remove) and an {@link OperationError} is thrown. {@link UsageError} for an unsafe
 * `name` or `version`, or a malformed `extraFiles` list, before anything is touched.
 */
export async function exportPem(request: PemExportRequest, fs: ExportFs = nodeExportFs): Promise<ExportedPaths> {
  const { name, version, files } = request;
  assertSafeSegment('certificate name', name);
  assertSafeSegment('certificate version', version);
  if (version.startsWith(PRESERVED_PREFIX)) {
    throw new UsageError(`invalid certificate version "${version}": "${PRESERVED_PREFIX}" is reserved`);
  }
  for (const { key } of PEM_FILE_LAYOUT) {
    if (typeof files?.[key] !== 'string') throw new UsageError(`the PEM text "${key}" to export is missing`);
  }
  const extraFiles = checkExtraFiles(request.extraFiles);
  const paths = exportedPaths(request.outDir, name);
  const access = request.keyAccess ?? DEFAULT_KEY_ACCESS;
  const holdsKey = (mode: number): boolean => mode === PRIVATE_FILE_MODE;
  const planned: PlannedFile[] = PEM_FILE_LAYOUT.map(({ key, fileName, mode }) => (holdsKey(mode) ? { fileName, data: files[key], mode: access.mode, gid: access.gid } : { fileName, data: files[key], mode, gid: null }));
  for (const extra of extraFiles) {
    planned.push({ fileName: extra.name, data: extra.data, mode: access.mode, gid: access.gid });
    paths[EXTRA_FILE_PATH_KEYS[extra.name]] = join(paths.dir, extra.name);
  }
  try {
    await exportVersion(fs, resolve(request.outDir), name, version, planned, access);
    return paths;
  } catch (error) {
    if (error instanceof AcmectlError) throw error;
    throw new OperationError(
      `could not export certificate "${name}" to ${request.outDir}: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/**
 * Which version `<outDir>/<name>` currently serves: the version of the `.versions/<name>/…` directory the link
 * points to, or null when there is no link, the link's directory is missing, or `<out>/<name>` is not a link
 * made by acmectl (e.g. a certbot directory). Does not check the files inside. UsageError for an unsafe name.
 */
export async function readExportedVersion(
  outDir: string,
  name: string,
  fs: ExportFs = nodeExportFs,
): Promise<string | null> {
  const linkPath = exportedPaths(outDir, name).dir;
  try {
    const stats = await fs.lstat(linkPath);
    if (!stats.isSymbolicLink()) return null;
    const versionDirName = parseOwnLinkTarget(await fs.readlink(linkPath), name);
    if (versionDirName === undefined) return null;
    if (!(await fs.stat(linkPath)).isDirectory()) return null;
    return versionOfDirName(versionDirName);
  } catch (error) {
    if (isMissing(error)) return null;
    throw new OperationError(`could not read the exported files at ${linkPath}: ${describeError(error)}`, {
      cause: error,
    });
  }
}

/**
 * readExportedVersion without the thread pool: three system calls, for a renew that checks thousands of
 * certificates with nothing to write. Null whenever the answer is not a plain "this version": the caller then
 * asks readExportedVersion, which also explains what went wrong.
 */
export function readExportedVersionSync(outDir: string, name: string): string | null {
  const linkPath = exportedPaths(outDir, name).dir;
  try {
    if (!lstatSync(linkPath).isSymbolicLink()) return null;
    const versionDirName = parseOwnLinkTarget(readlinkSync(linkPath), name);
    if (versionDirName === undefined || !statSync(linkPath).isDirectory()) return null;
    return versionOfDirName(versionDirName);
  } catch {
    return null;
  }
}

/** What is at `<out>/<name>` before an export. */
type LinkState =
  | { kind: 'absent' }
  | { kind: 'link'; versionDirName: string }
  | { kind: 'user-directory' };

async function exportVersion(
  fs: ExportFs,
  outDir: string,
  name: string,
  version: string,
  planned: readonly PlannedFile[],
  access: KeyAccess,
): Promise<void> {
  await makeDurableDirectories(fs, outDir, DIRECTORY_MODE);
  const directoryAccess = { mode: directoryModeFor(access.mode), gid: access.gid };
  const linkPath = join(outDir, name);
  const before = await inspectLinkPath(fs, linkPath, name);
  const nameVersionsDir = join(outDir, VERSIONS_DIR_NAME, name);

  const linkedVersion = before.kind === 'link' ? versionOfDirName(before.versionDirName) : undefined;
  let versionDirName = version;
  if (before.kind === 'link' && linkedVersion === version) {
    const linkedDir = join(nameVersionsDir, before.versionDirName);
    const accessCurrent = (await outDirectoryOpenTo(fs, outDir, directoryAccess)) && (await hasAccess(fs, dirname(nameVersionsDir), directoryAccess)) && (await hasAccess(fs, nameVersionsDir, directoryAccess)) && (await hasAccess(fs, linkedDir, directoryAccess));
    if (accessCurrent && (await versionDirectoryHolds(fs, linkedDir, planned))) return;
    versionDirName = `${version}${REPAIR_SEPARATOR}${randomHex()}`;
  }
  const versionDir = join(nameVersionsDir, versionDirName);

  await makeDurableDirectories(fs, nameVersionsDir, DIRECTORY_MODE);
  // The directories on the way to the key files let through whom the key mode lets read (and no one else).
  await openOutDirectoryTo(fs, outDir, directoryAccess);
  await applyAccess(fs, dirname(nameVersionsDir), directoryAccess);
  await applyAccess(fs, nameVersionsDir, directoryAccess);
  // Whatever is here is a leftover of an interrupted attempt: the linked directory is never this one.
  await fs.rm(versionDir, { recursive: true, force: true });
  await fs.mkdir(versionDir, { mode: DIRECTORY_MODE });
  await fs.chmod(versionDir, directoryAccess.mode); // exactly, whatever the umask
  if (directoryAccess.gid !== null) await fs.chown(versionDir, directoryAccess.gid);
  for (const file of planned) {
    await writeFileAtomic(join(versionDir, file.fileName), file.data, file.mode, fs, { syncDirectory: false, ...(file.gid !== null ? { gid: file.gid } : {}) });
  }
  // The version must be durable, files and directory entry, before the link can point to it.
  await fsyncDirectory(versionDir, fs);
  await fsyncDirectory(nameVersionsDir, fs);

  const preservedDir =
    before.kind === 'user-directory' ? join(nameVersionsDir, `${PRESERVED_PREFIX}${compactTimestamp()}`) : undefined;
  await switchLink(fs, outDir, name, `${VERSIONS_DIR_NAME}/${name}/${versionDirName}`, preservedDir);
  await fsyncDirectory(outDir, fs);
  if (preservedDir !== undefined) await fsyncDirectory(nameVersionsDir, fs);

  const keep = new Set([versionDirName]);
  if (before.kind === 'link') keep.add(before.versionDirName);
  await pruneQuietly(fs, outDir, name, keep);
}

/**
 * Point `<outDir>/<name>` at `target` in one step: a temporary link in `outDir` renamed over it (rename replaces
 * an existing link atomically). A user's directory there is first moved to `preservedDir`, because a rename
 * cannot replace a non-empty directory; it is moved back if the switch then fails.
 */
async function switchLink(
  fs: ExportFs,
  outDir: string,
  name: string,
  target: string,
  preservedDir: string | undefined,
): Promise<void> {
  const linkPath = join(outDir, name);
  // Made beside the version directories, where pruneQuietly finds it if a crash leaves it (reading a small
  // directory, not the export directory of thousands of names), and renamed into place: one file system.
  const tempLink = join(outDir, VERSIONS_DIR_NAME, name, temporaryLinkName());
  await fs.symlink(target, tempLink);
  let movedUserDirectory = false;
  try {
    if (preservedDir !== undefined) {
      await fs.rename(linkPath, preservedDir);
      movedUserDirectory = true;
    }
    await fs.rename(tempLink, linkPath);
  } catch (error) {
    await fs.unlink(tempLink).catch(() => undefined);
    if (movedUserDirectory && preservedDir !== undefined) {
      await fs.rename(preservedDir, linkPath).catch(() => undefined);
    }
    throw error;
  }
}

async function inspectLinkPath(fs: ExportFs, linkPath: string, name: string): Promise<LinkState> {
  let stats;
  try {
    stats = await fs.lstat(linkPath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  if (stats.isDirectory()) return { kind: 'user-directory' };
  if (stats.isSymbolicLink()) {
    const target = await fs.readlink(linkPath);
    const versionDirName = parseOwnLinkTarget(target, name);
    if (versionDirName !== undefined) return { kind: 'link', versionDirName };
    throw new OperationError(`${linkPath} is a symbolic link to ${target}, which acmectl did not create`, {
      hint: 'remove the link (its target is not touched) or export to another directory with --out, then export again',
    });
  }
  throw new OperationError(`${linkPath} exists and is not a directory`, {
    hint: `move or remove it, or export to another directory with --out, then run the export again`,
  });
}

/**
 * Whether `dir` holds these files, each a regular file with this content and mode, and none of the extra files
 * that were not asked for (other files, e.g. a user's, are not looked at).
 */
async function versionDirectoryHolds(fs: ExportFs, dir: string, planned: readonly PlannedFile[]): Promise<boolean> {
  for (const file of planned) {
    const path = join(dir, file.fileName);
    try {
      const stats = await fs.lstat(path);
      if (!stats.isFile() || (stats.mode & 0o7777) !== file.mode || (file.gid !== null && stats.gid !== file.gid)) return false;
      if (!(await fs.readFile(path)).equals(toBuffer(file.data))) return false;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }
  for (const extraName of EXTRA_FILE_NAMES) {
    if (planned.some((file) => file.fileName === extraName)) continue;
    try {
      await fs.lstat(join(dir, extraName));
      return false; // left from an export with other formats
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }
  return true;
}

function toBuffer(data: string | Uint8Array): Buffer {
  return typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The extra files of a request, checked: known names, each at most once, text or bytes. UsageError otherwise. */
function checkExtraFiles(extraFiles: readonly ExtraFile[] | undefined): readonly ExtraFile[] {
  if (extraFiles === undefined) return [];
  if (!Array.isArray(extraFiles)) throw new UsageError('the extra files to export must be a list');
  const seen = new Set<string>();
  for (const extra of extraFiles) {
    const name: unknown = extra?.name;
    if (typeof name !== 'string' || !(EXTRA_FILE_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(
        `cannot export an extra file named ${JSON.stringify(name)}: only ${EXTRA_FILE_NAMES.join(' and ')} are known`,
      );
    }
    if (seen.has(name)) throw new UsageError(`the extra file ${name} is listed twice`);
    seen.add(name);
    if (typeof extra.data !== 'string' && !(extra.data instanceof Uint8Array)) {
      throw new UsageError(`the content of the extra file ${name} to export is missing`);
    }
  }
  return extraFiles;
}

/**
 * Sets a directory of acmectl's own (.versions and below) to exactly this mode, and to the group when one is
 * given; changes nothing that is already so (a re-export of the current version writes nothing).
 */
async function applyAccess(fs: ExportFs, path: string, access: KeyAccess): Promise<void> {
  const stats = await fs.lstat(path);
  if ((stats.mode & 0o7777) !== access.mode) await fs.chmod(path, access.mode);
  if (access.gid !== null && stats.gid !== access.gid) await fs.chown(path, access.gid);
}

async function hasAccess(fs: ExportFs, path: string, access: KeyAccess): Promise<boolean> {
  try {
    const stats = await fs.lstat(path);
    return (stats.mode & 0o7777) === access.mode && (access.gid === null || stats.gid === access.gid);
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

async function outDirectoryOpenTo(fs: ExportFs, outDir: string, access: KeyAccess): Promise<boolean> {
  const traverse = access.mode & 0o011;
  if (traverse === 0 && access.gid === null) return true;
  const stats = await fs.stat(outDir);
  return (stats.mode & traverse) === traverse && (access.gid === null || stats.gid === access.gid);
}

/**
 * The export directory may be the user's: it only gains the traverse bits the key mode needs (never loses any,
 * never gains read or write), and the key group when one is given, so that the group can reach the files.
 */
async function openOutDirectoryTo(fs: ExportFs, outDir: string, access: KeyAccess): Promise<void> {
  const traverse = access.mode & 0o011;
  if (traverse === 0 && access.gid === null) return;
  const stats = await fs.stat(outDir);
  if ((stats.mode & traverse) !== traverse) await fs.chmod(outDir, (stats.mode & 0o7777) | traverse);
  if (access.gid !== null && stats.gid !== access.gid) await fs.chown(outDir, access.gid);
}

/**
 * Remove version directories of `name` not in `keep` (never a `previous-…` directory or anything acmectl did not
 * name) and temporary links left beside them by crashed runs. Failures are ignored: nothing served
 * depends on it, and the next export tries again.
 */
async function pruneQuietly(fs: ExportFs, outDir: string, name: string, keep: ReadonlySet<string>): Promise<void> {
  try {
    const nameVersionsDir = join(outDir, VERSIONS_DIR_NAME, name);
    for (const entry of await fs.readdir(nameVersionsDir)) {
      if (isTemporaryLinkName(entry)) {
        await fs.unlink(join(nameVersionsDir, entry));
        continue;
      }
      if (keep.has(entry) || !isVersionDirName(entry)) continue;
      await fs.rm(join(nameVersionsDir, entry), { recursive: true, force: true });
    }
  } catch {
    // Housekeeping only (see above).
  }
}

function assertSafeSegment(what: string, value: string): void {
  if (
    typeof value !== 'string' ||
    !SAFE_SEGMENT.test(value) ||
    value.includes('..') ||
    value.length > MAX_SEGMENT_LENGTH
  ) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(value)}`, {
      hint:
        'use letters, digits, ".", "_" and "-", starting with a letter or digit, without "..", ' +
        `at most ${MAX_SEGMENT_LENGTH} characters`,
    });
  }
}

/** A directory name acmectl gives a version: `<version>` or `<version>~<hex>`. */
function isVersionDirName(entry: string): boolean {
  const separator = entry.indexOf(REPAIR_SEPARATOR);
  const version = separator === -1 ? entry : entry.slice(0, separator);
  if (separator !== -1 && !/^[0-9a-f]+$/.test(entry.slice(separator + 1))) return false;
  return (
    SAFE_SEGMENT.test(version) &&
    !version.includes('..') &&
    version.length <= MAX_SEGMENT_LENGTH &&
    !version.startsWith(PRESERVED_PREFIX)
  );
}

function versionOfDirName(versionDirName: string): string {
  const separator = versionDirName.indexOf(REPAIR_SEPARATOR);
  return separator === -1 ? versionDirName : versionDirName.slice(0, separator);
}

/** The version directory name of a link target that acmectl wrote for `name`, else undefined. */
function parseOwnLinkTarget(target: string, name: string): string | undefined {
  const prefix = `${VERSIONS_DIR_NAME}/${name}/`;
  if (!target.startsWith(prefix)) return undefined;
  const versionDirName = target.slice(prefix.length);
  return isVersionDirName(versionDirName) ? versionDirName : undefined;
}

function temporaryLinkName(): string {
  return `.link-${randomHex()}`;
}

function isTemporaryLinkName(entry: string): boolean {
  return /^\.link-[0-9a-f]{12}$/.test(entry);
}

function randomHex(): string {
  return randomBytes(6).toString('hex');
}

/** `20250131T235959123Z`: sortable, and safe in a file name. */
function compactTimestamp(): string {
  return new Date().toISOString().replace(/[-:.]/g, '');
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}
