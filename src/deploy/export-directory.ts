/**
 * The export directory is tried before a CA is asked for a certificate: `--out` at a file, under a file, at
 * /dev/null or in /sys or /proc was otherwise found only after the CA had issued (a spent rate limit, and a
 * certificate stored but not deployed).
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { UsageError } from '../domain/errors.js';
import { describeError } from './atomic-file.js';
import { EXCLUSIVE_CREATE_FLAGS, nodeExportFs, type ExportFs } from './export-fs.js';
import { makeDurableDirectories } from './make-directories.js';

const DIRECTORY_MODE = 0o700;

/**
 * Creates the directory (mode 0700, like every directory the exporter creates) when it is missing, and checks
 * that a file can be created in it, by creating and removing one. `what` names it in the message ("--out").
 * UsageError (exit 2) saying what is wrong otherwise.
 */
export async function prepareExportDirectory(path: string, what: string, fs: ExportFs = nodeExportFs): Promise<void> {
  const absolute = resolve(path);
  const refuse = (why: string, error: unknown): UsageError =>
    new UsageError(`${what} ${absolute} cannot be used: ${why}`, {
      hint: 'choose a writable directory (it is created when missing), e.g. --out /etc/ssl/acmectl',
      cause: error,
    });
  try {
    await makeDurableDirectories(fs, absolute, DIRECTORY_MODE);
  } catch (error) {
    throw refuse(describeError(error), error);
  }
  const probe = join(absolute, `.acmectl-write-test-${randomBytes(6).toString('hex')}`);
  try {
    await fs.close(await fs.open(probe, EXCLUSIVE_CREATE_FLAGS, 0o600));
  } catch (error) {
    throw refuse(`no file can be created in it (${describeError(error)})`, error);
  }
  await fs.unlink(probe).catch(() => undefined);
}
