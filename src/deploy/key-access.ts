/**
 * Who may read a certificate's private key files (privkey.pem, combined.pem, certificate.p12): by default only
 * the owner (0600); with --key-group and --key-mode (e.g. ssl-cert and 0640) a group of services too, as
 * nginx, postfix or haproxy running as non-root need. Never wider than asked: the directories on the way get only
 * the traverse (x) bit for whom the key mode lets read, never read or write.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { UsageError } from '../domain/errors.js';

/** How private key files are to be accessible: their mode, and the group id to give them (null: unchanged). */
export interface KeyAccess {
  mode: number;
  gid: number | null;
}

export const DEFAULT_KEY_MODE = 0o600;
export const DEFAULT_KEY_ACCESS: KeyAccess = { mode: DEFAULT_KEY_MODE, gid: null };

/** Key modes acmectl writes: the owner reads and writes; group and others may at most read. */
const ALLOWED_KEY_MODES = [0o600, 0o640, 0o644, 0o400, 0o440, 0o444, 0o604];

/** "0640" → 0o640. UsageError for anything but an octal mode that only lets group/others read. */
export function parseKeyMode(text: string): number {
  const mode = /^0?[0-7]{3}$/.test(text) ? Number.parseInt(text, 8) : Number.NaN;
  if (!ALLOWED_KEY_MODES.includes(mode)) {
    throw new UsageError(`--key-mode ${JSON.stringify(text)} is not a mode for a private key`, {
      hint: 'use 0600 (the default), or 0640 with --key-group for a group of services; group and others may only read',
    });
  }
  return mode;
}

/** The mode of a directory leading to key files of `keyMode`: 0700 plus x for whom the files are readable. */
export function directoryModeFor(keyMode: number): number {
  return 0o700 | (keyMode & 0o040 ? 0o010 : 0) | (keyMode & 0o004 ? 0o001 : 0);
}

const execFileAsync = promisify(execFile);

/**
 * The id of a group named `name` (or given as a number), through the system's group database (`getent`, which
 * also sees LDAP or sssd groups; /etc/group when getent is missing). UsageError when there is no such group.
 */
export async function resolveGroup(name: string): Promise<number> {
  if (/^\d+$/.test(name)) return Number(name);
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(name) || name.length > 64) throw new UsageError(`--key-group ${JSON.stringify(name)} is not a group name`);
  let line: string | undefined;
  try {
    line = (await execFileAsync('getent', ['group', name], { timeout: 5000 })).stdout.split('\n')[0];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') line = (await readFile('/etc/group', 'utf8').catch(() => '')).split('\n').find((l) => l.startsWith(`${name}:`));
    // getent exits 2 when the group is unknown
  }
  const gid = line ? Number(line.split(':')[2]) : Number.NaN;
  if (!Number.isInteger(gid)) throw new UsageError(`there is no group named "${name}" on this machine`, { hint: 'create it (groupadd) or name an existing one, e.g. ssl-cert' });
  return gid;
}
