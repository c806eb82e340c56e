import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CRON_FILE, SYSTEMD_TIMER } from './units.js';

/** A schedule found on this machine that renews certificates. */
export interface FoundSchedule {
  /** Who it runs: acmectl (ours), certbot, acme.sh. */
  client: 'acmectl' | 'certbot' | 'acme.sh';
  kind: 'systemd' | 'cron';
  /** The file that makes it run (under `root`). */
  path: string;
  /** What to do to stop it. */
  disable: string;
}

/**
 * The renewal schedules installed under `root` ("/" normally): ours, certbot's (its Debian package enables a
 * systemd timer and ships a cron.d file; the snap has its own timer) and acme.sh's crontab line. Two clients
 * renewing the same names race each other and spend the CA's rate limits twice (certbot#7826).
 */
export async function findSchedules(root: string): Promise<FoundSchedule[]> {
  const found: FoundSchedule[] = [];
  // lstat: an enabled timer is a symbolic link into /lib/systemd, which counts even where it does not resolve.
  const exists = (path: string): Promise<boolean> => lstat(join(root, path)).then(() => true, () => false);
  const candidates: Array<Omit<FoundSchedule, 'path'> & { path: string }> = [
    { client: 'acmectl', kind: 'systemd', path: `etc/systemd/system/${SYSTEMD_TIMER}`, disable: 'acmectl schedule remove' },
    { client: 'acmectl', kind: 'cron', path: `etc/cron.d/${CRON_FILE}`, disable: 'acmectl schedule remove' },
    { client: 'certbot', kind: 'systemd', path: 'etc/systemd/system/timers.target.wants/certbot.timer', disable: 'systemctl disable --now certbot.timer' },
    { client: 'certbot', kind: 'systemd', path: 'etc/systemd/system/timers.target.wants/snap.certbot.renew.timer', disable: 'systemctl disable --now snap.certbot.renew.timer' },
    { client: 'certbot', kind: 'cron', path: 'etc/cron.d/certbot', disable: 'remove /etc/cron.d/certbot (or: apt-get remove certbot)' },
  ];
  for (const candidate of candidates) {
    if (await exists(candidate.path)) found.push({ ...candidate, path: join(root, candidate.path) });
  }
  // Users' crontabs (crontab -e): certbot renew, acme.sh --cron, acmectl renew.
  const spool = join(root, 'var/spool/cron/crontabs');
  for (const user of await readdir(spool).catch(() => [] as string[])) {
    const text = await readFile(join(spool, user), 'utf8').catch(() => '');
    const active = text.split('\n').filter((line) => !line.trimStart().startsWith('#'));
    const path = join(spool, user);
    if (active.some((line) => /\bcertbot\b.*\brenew\b/.test(line))) found.push({ client: 'certbot', kind: 'cron', path, disable: `remove the certbot line from ${user}'s crontab (crontab -u ${user} -e)` });
    if (active.some((line) => /acme\.sh\b.*--cron/.test(line))) found.push({ client: 'acme.sh', kind: 'cron', path, disable: `acme.sh --uninstall-cronjob (as ${user})` });
    if (active.some((line) => /\bacmectl\b.*\brenew\b/.test(line))) found.push({ client: 'acmectl', kind: 'cron', path, disable: `remove the acmectl line from ${user}'s crontab (crontab -u ${user} -e)` });
  }
  return found;
}
