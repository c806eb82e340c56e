/**
 * Writing one file so that readers, and a machine that loses power, see either the old complete file or the
 * new complete file (docs/cli.md#exported-files).
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { AcmectlError, OperationError } from '../domain/errors.js';
import {
  DIRECTORY_OPEN_FLAGS,
  EXCLUSIVE_CREATE_FLAGS,
  nodeExportFs,
  type ExportFs,
  type FileHandle,
} from './export-fs.js';

export interface WriteFileAtomicOptions {
  /**
   * Fsync the containing directory after the rename (default true), which makes the new name durable.
   * A caller writing several files into one directory may pass false and call {@link fsyncDirectory} once.
   */
  syncDirectory?: boolean;
  /** Give the file this group, before any content is written (the owner is unchanged). */
  gid?: number;
  /**
   * Fsync the file before the rename (default true). Only for a file whose reader copes with finding it empty
   * or missing after a power loss (a cache, a marker with a fallback): it saves the slowest step.
   */
  syncFile?: boolean;
}

/** Keeps a temporary name within NAME_MAX (255) however long the final name is. */
const MAX_TEMP_BASE_LENGTH = 100;

/**
 * Replace `path` with `data` atomically and set its mode to exactly `mode` (not subject to the umask).
 *
 * Steps: create a temporary file beside `path` (random name, `O_EXCL`, created with `mode` so it is never more
 * open than the final file), write, fsync, close, rename over `path`, then fsync the directory.
 * The rename is the single moment the content changes: before it `path` is untouched, after it `path` is the
 * complete new file. On any failure the temporary file is removed (best effort), `path` keeps its old content
 * (or stays absent), and an {@link OperationError} is thrown. A failure of the final directory fsync is also
 * thrown: the new content is then in place but may not survive a power loss.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode: number,
  fs: ExportFs = nodeExportFs,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const directory = dirname(path);
  const tempPath = join(
    directory,
    `.${basename(path).slice(0, MAX_TEMP_BASE_LENGTH)}.tmp-${randomBytes(6).toString('hex')}`,
  );
  let handle: FileHandle | undefined;
  let tempExists = false;
  try {
    handle = await fs.open(tempPath, EXCLUSIVE_CREATE_FLAGS, mode);
    tempExists = true;
    await fs.fchmod(handle, mode);
    if (options.gid !== undefined) await fs.fchown(handle, options.gid);
    await fs.write(handle, data);
    if (options.syncFile !== false) await fs.fsync(handle);
    const openHandle = handle;
    handle = undefined;
    await fs.close(openHandle);
    await fs.rename(tempPath, path);
    tempExists = false;
    if (options.syncDirectory !== false) await fsyncDirectory(directory, fs);
  } catch (error) {
    if (handle !== undefined) await fs.close(handle).catch(() => undefined);
    // After a rename that failed midway the temporary name may be gone already: ENOENT is fine here.
    if (tempExists) await fs.unlink(tempPath).catch(() => undefined);
    if (error instanceof AcmectlError) throw error;
    throw new OperationError(`could not write ${path}: ${describeError(error)}`, { cause: error });
  }
}

/**
 * Fsync a directory so that the entries created, renamed or removed in it survive a power loss.
 * Throws the underlying fs error. Does nothing on Windows, where directories cannot be opened for fsync.
 */
export async function fsyncDirectory(path: string, fs: ExportFs = nodeExportFs): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fs.open(path, DIRECTORY_OPEN_FLAGS);
  try {
    await fs.fsync(handle);
  } catch (error) {
    // Report the fsync failure, not a secondary close failure.
    await fs.close(handle).catch(() => undefined);
    throw error;
  }
  await fs.close(handle);
}

/** The message of an error for embedding in ours. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
