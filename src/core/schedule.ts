import { existsSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../deploy/atomic-file.js';
import { readLastRun, type LastRun } from '../deploy/last-run.js';
import { findSchedules, type FoundSchedule } from '../deploy/schedule/detect.js';
import { systemctl } from '../deploy/schedule/systemctl.js';
import { CRON_FILE, cronFile, cronMinuteOf, nextCronRun, SYSTEMD_SERVICE, SYSTEMD_TIMER, systemdService, systemdTimer, type ScheduledCommand } from '../deploy/schedule/units.js';
import { OperationError } from '../domain/errors.js';
import { readFile } from 'node:fs/promises';

export type ScheduleMethod = 'systemd' | 'cron';

export interface ScheduleInstall {
  /** "/" normally; another directory writes the files there (packaging, tests) and runs no systemctl. */
  root: string;
  /** Default: systemd when it runs here (root/run/systemd/system), else cron. */
  method?: ScheduleMethod;
  command: ScheduledCommand;
  /** Minute past 00:00 and 12:00 for cron (chosen at random by the caller: hosts spread out). */
  minute: number;
}

export interface InstalledSchedule {
  method: ScheduleMethod;
  files: string[];
  /** Whether the systemd timer was enabled and started here; false: `nextSteps` says what to run. */
  activated: boolean;
  nextSteps: string[];
}

const systemdRuns = (root: string): boolean => existsSync(join(root, 'run/systemd/system'));

/**
 * Installs the twice-daily `acmectl renew`, refusing (nothing written) when this machine already has a renewal
 * schedule: certbot's, acme.sh's or acmectl's own. Two clients renewing the same names race each other.
 */
export async function installSchedule(request: ScheduleInstall): Promise<InstalledSchedule> {
  const existing = await findSchedules(request.root);
  if (existing.length > 0) {
    const [first] = existing;
    throw new OperationError(`a renewal schedule is already installed: ${existing.map(describe).join('; ')}`, {
      hint: `disable it first (${existing.map((found) => found.disable).filter((fix, index, all) => all.indexOf(fix) === index).join('; ')}), then run acmectl schedule install again${first!.client === 'acmectl' ? '' : ': two clients renewing the same names spend the CA\'s rate limits twice'}`,
    });
  }
  const method = request.method ?? (systemdRuns(request.root) ? 'systemd' : 'cron');
  if (method === 'cron') {
    const dir = join(request.root, 'etc/cron.d');
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const path = join(dir, CRON_FILE);
    await writeFileAtomic(path, cronFile(request.command, request.minute), 0o644);
    return { method, files: [path], activated: true, nextSteps: [] };
  }
  const dir = join(request.root, 'etc/systemd/system');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const files = [join(dir, SYSTEMD_SERVICE), join(dir, SYSTEMD_TIMER)];
  await writeFileAtomic(files[0]!, systemdService(request.command), 0o644);
  await writeFileAtomic(files[1]!, systemdTimer(), 0o644);
  const steps = ['systemctl daemon-reload', `systemctl enable --now ${SYSTEMD_TIMER}`];
  if (request.root !== '/' || !systemdRuns('/')) return { method, files, activated: false, nextSteps: steps };
  await systemctl(['daemon-reload']);
  await systemctl(['enable', '--now', SYSTEMD_TIMER]);
  return { method, files, activated: true, nextSteps: [] };
}

/** Removes acmectl's schedule files (disabling the timer first where systemd runs); the paths removed. */
export async function removeSchedule(root: string): Promise<string[]> {
  const ours = [join(root, 'etc/systemd/system', SYSTEMD_TIMER), join(root, 'etc/systemd/system', SYSTEMD_SERVICE), join(root, 'etc/cron.d', CRON_FILE)].filter((path) => existsSync(path));
  if (root === '/' && systemdRuns('/') && ours.some((path) => path.endsWith(SYSTEMD_TIMER))) {
    await systemctl(['disable', '--now', SYSTEMD_TIMER]);
  }
  for (const path of ours) await unlink(path);
  if (root === '/' && systemdRuns('/') && ours.length > 0) await systemctl(['daemon-reload']).catch(() => undefined);
  return ours;
}

export interface ScheduleStatus {
  schedules: FoundSchedule[];
  /** When acmectl's schedule runs next (ISO), when it can be known: cron's line, or systemd's timer. */
  nextRun: string | null;
  lastRun: LastRun | null;
}

export async function scheduleStatus(root: string, dataDir: string, now: Date): Promise<ScheduleStatus> {
  const schedules = await findSchedules(root);
  let nextRun: string | null = null;
  const cron = schedules.find((s) => s.client === 'acmectl' && s.kind === 'cron' && s.path === join(root, 'etc/cron.d', CRON_FILE));
  if (cron) {
    const minute = cronMinuteOf(await readFile(cron.path, 'utf8'));
    if (minute !== null) nextRun = nextCronRun(minute, now).toISOString();
  }
  if (!nextRun && root === '/' && systemdRuns('/') && schedules.some((s) => s.client === 'acmectl' && s.kind === 'systemd')) {
    // "@1732867200" with --timestamp=unix (systemd 251+); older ones print a local date systemd formats itself.
    const text = (await systemctl(['show', SYSTEMD_TIMER, '--property=NextElapseUSecRealtime', '--value', '--timestamp=unix']).catch(() => '')).trim();
    const at = text.startsWith('@') ? Number(text.slice(1)) * 1000 : Date.parse(text);
    if (Number.isFinite(at) && at > 0) nextRun = new Date(at).toISOString();
  }
  return { schedules, nextRun, lastRun: await readLastRun(dataDir) };
}

function describe(found: FoundSchedule): string {
  return `${found.client} (${found.kind}) at ${found.path}`;
}
