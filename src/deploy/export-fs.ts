/**
 * The file-system operations the exporter performs, and nothing else.
 *
 * Every step of an export goes through one of these methods, one call per step, so a test can wrap the object
 * and make the N-th call fail (or stop everything after it) to check that an interrupted export never leaves a
 * mixed or truncated set of files. Production code uses {@link nodeExportFs}.
 */
import { constants as fsConstants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';

export type { FileHandle };

export interface ExportFs {
  /** Open a file (or a directory with `O_RDONLY`, to fsync it); `mode` applies when the file is created. */
  open(path: string, flags: number, mode?: number): Promise<FileHandle>;
  /** Set the mode of an open file: independent of the umask. */
  fchmod(handle: FileHandle, mode: number): Promise<void>;
  /** Write all of `data` at the handle's current position. */
  write(handle: FileHandle, data: string | Uint8Array): Promise<void>;
  fsync(handle: FileHandle): Promise<void>;
  close(handle: FileHandle): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  readlink(path: string): Promise<string>;
  /** `mkdir` (non-recursive unless asked); resolves to the first directory created, as fs/promises does. */
  mkdir(path: string, options: { mode: number; recursive?: boolean }): Promise<string | undefined>;
  chmod(path: string, mode: number): Promise<void>;
  /** Set the group of an open file (the owner is unchanged). */
  fchown(handle: FileHandle, gid: number): Promise<void>;
  /** Set the group of a path (the owner is unchanged). */
  chown(path: string, gid: number): Promise<void>;
  rm(path: string, options: { recursive?: boolean; force?: boolean }): Promise<void>;
  unlink(path: string): Promise<void>;
  lstat(path: string): Promise<Stats>;
  stat(path: string): Promise<Stats>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
}

/** The real file system (node:fs/promises). */
export const nodeExportFs: ExportFs = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  fchmod: (handle, mode) => handle.chmod(mode),
  write: (handle, data) => handle.writeFile(data),
  fsync: (handle) => handle.sync(),
  close: (handle) => handle.close(),
  rename: (from, to) => fsp.rename(from, to),
  symlink: (target, path) => fsp.symlink(target, path),
  readlink: (path) => fsp.readlink(path),
  mkdir: (path, options) => fsp.mkdir(path, options),
  chmod: (path, mode) => fsp.chmod(path, mode),
  fchown: (handle, gid) => handle.chown(-1, gid),
  chown: (path, gid) => fsp.chown(path, -1, gid),
  rm: (path, options) => fsp.rm(path, options),
  unlink: (path) => fsp.unlink(path),
  lstat: (path) => fsp.lstat(path),
  stat: (path) => fsp.stat(path),
  readdir: (path) => fsp.readdir(path),
  readFile: (path) => fsp.readFile(path),
};

/** Flags for opening a directory so that it can be fsynced. */
export const DIRECTORY_OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_DIRECTORY ?? 0);

/** Flags for creating a temporary file that must not exist yet. */
export const EXCLUSIVE_CREATE_FLAGS = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL;

/** The error code of a failed fs call, if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
