import { checkWritableDirectory } from '../../deploy/writable-directory.js';
import type { Check } from './check.js';
import { fail, ok } from './check.js';

/** The export directory (`--out`, or this host's default) is writable, or can be created. */
export async function checkOutDirWritable(dir: string, certificate: string | null): Promise<Check> {
  const result = await checkWritableDirectory(dir);
  if (result.writable) return ok('out-dir', certificate, result.exists ? `${dir} is writable` : `${dir} does not exist yet and can be created`);
  return fail('out-dir', certificate, `${dir} is not writable: ${result.path === dir ? '' : `${result.path} `}${result.reason}`, `make ${result.path} writable by the user acmectl runs as`);
}
