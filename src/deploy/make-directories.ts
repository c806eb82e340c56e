/**
 * `mkdir -p` that always ends. Node's recursive mkdir retries a directory for as long as mkdir answers ENOENT
 * while its parent exists, which is what /proc answers: `--out /proc/x` spun forever at 50-80 % CPU. Here each
 * missing directory is created once, after looking up the path from the bottom to the first existing
 * directory: the number of steps is bounded by the path's depth, and mkdir's own error is the answer.
 */
import { dirname } from 'node:path';
import { OperationError } from '../domain/errors.js';
import { fsyncDirectory } from './atomic-file.js';
import { errorCode, type ExportFs } from './export-fs.js';

/**
 * Creates `path` and its missing parents with `mode` (as given to mkdir, so subject to the umask: the caller
 * chmods). Returns the directories this call created, top-down. An OperationError names a file that is in the
 * way; other failures are mkdir's or stat's own errors. A directory created meanwhile by another process is
 * taken as it is.
 */
export async function makeDirectories(fs: ExportFs, path: string, mode: number): Promise<string[]> {
  const missing: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    const kind = await kindOf(fs, dir);
    if (kind === 'directory') break;
    if (kind === 'other') {
      const why = dir === path ? `${path} exists and is not a directory` : `cannot create the directory ${path}: ${dir} is not a directory`;
      throw new OperationError(why, {
        hint: 'move that file away or choose another directory',
      });
    }
    if (dirname(dir) === dir) throw new OperationError(`cannot create the directory ${path}: its root ${dir} does not exist`);
    missing.unshift(dir);
  }
  const created: string[] = [];
  for (const dir of missing) {
    try {
      await fs.mkdir(dir, { mode });
      created.push(dir);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST' || (await kindOf(fs, dir)) !== 'directory') throw error;
    }
  }
  return created;
}

/**
 * {@link makeDirectories}, then each created directory gets exactly `mode` (whatever the umask), and its entry
 * is fsynced in its parent, so that it survives a power loss before anything goes into it. The deepest
 * directory is fsynced by whoever puts something into it.
 */
export async function makeDurableDirectories(fs: ExportFs, path: string, mode: number): Promise<void> {
  const created = await makeDirectories(fs, path, mode);
  if (created.length === 0) return;
  for (const dir of created) await fs.chmod(dir, mode);
  await fsyncDirectory(dirname(created[0]!), fs);
  for (const dir of created.slice(0, -1)) await fsyncDirectory(dir, fs);
}

/** What is at `path`, following links: a directory, nothing (also when a parent is not a directory), or another thing. */
async function kindOf(fs: ExportFs, path: string): Promise<'directory' | 'missing' | 'other'> {
  try {
    return (await fs.stat(path)).isDirectory() ? 'directory' : 'other';
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw error;
  }
}
