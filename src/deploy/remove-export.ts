import { lstat, readdir, readlink, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationError } from '../domain/errors.js';

/**
 * Removes what the exporter wrote for a certificate: the link `<out>/<name>` and the version directories
 * under `<out>/.versions/<name>/`. Kept: anything the link does not belong to acmectl for (a real directory
 * or a foreign link), and `previous-*` directories, which hold files a user had before acmectl took over.
 * Returns the paths removed. Idempotent.
 */
export async function removeExport(outDir: string, name: string): Promise<string[]> {
  const removed: string[] = [];
  const link = join(outDir, name);
  const versions = join(outDir, '.versions', name);
  const linkStat = await lstat(link).catch(() => null);
  if (linkStat?.isSymbolicLink()) {
    const target = await readlink(link);
    if (!target.startsWith(join('.versions', name) + '/')) {
      throw new OperationError(`${link} is a link acmectl did not make (to ${target}); leaving it alone`);
    }
    await unlink(link);
    removed.push(link);
  } else if (linkStat) {
    throw new OperationError(`${link} is not a link made by acmectl; leaving it alone`);
  }
  const entries = await readdir(versions).catch(() => [] as string[]);
  for (const entry of entries) {
    if (entry.startsWith('previous-')) continue;
    await rm(join(versions, entry), { recursive: true, force: true });
    removed.push(join(versions, entry));
  }
  await rmdir(versions).catch(() => undefined); // kept when previous-* directories remain
  return removed;
}
