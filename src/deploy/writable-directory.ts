import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Whether files can be written under a directory, or (when it does not exist yet) it can be created. */
export type DirectoryWritability =
  | { writable: true; exists: boolean }
  /** `path` is the directory (or the nearest existing ancestor, or a file in the way) that refuses. */
  | { writable: false; path: string; reason: string };

/** Checks `dir`, or when it is missing its nearest existing ancestor (acmectl creates the rest), for write access. */
export async function checkWritableDirectory(dir: string): Promise<DirectoryWritability> {
  for (let path = dir; ; path = dirname(path)) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' || error.code === 'ENOTDIR' ? null : error));
    if (info instanceof Error) return { writable: false, path, reason: (info as NodeJS.ErrnoException).code ?? info.message };
    if (info === null) {
      if (dirname(path) === path) return { writable: false, path, reason: 'ENOENT' };
      continue;
    }
    if (!info.isDirectory()) return { writable: false, path, reason: 'not a directory' };
    const refused = await access(path, constants.W_OK | constants.X_OK).then(() => null, (error: NodeJS.ErrnoException) => error.code ?? 'not writable');
    if (refused !== null) return { writable: false, path, reason: refused };
    return { writable: true, exists: path === dir };
  }
}
