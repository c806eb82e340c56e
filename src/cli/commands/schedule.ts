import { realpathSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { installSchedule, removeSchedule, scheduleStatus, type ScheduleMethod } from '../../core/schedule.js';
import type { ScheduledCommand } from '../../deploy/schedule/units.js';
import { UsageError } from '../../domain/errors.js';
import { redactStoreUrl } from '../../store/url-options.js';
import type { Command } from '../command.js';
import type { GlobalOptions } from '../context.js';
import { buildContext } from '../context.js';

export interface ScheduleOptions {
  systemd?: boolean;
  cron?: boolean;
  root?: string;
}

/** `acmectl schedule install`: the twice-daily renew, as a systemd timer or a cron.d file. */
export const scheduleInstall: Command<ScheduleOptions> = async ({ options, global, reporter, signal }) => {
  if (options.systemd && options.cron) throw new UsageError('--systemd and --cron exclude each other');
  const root = rootOf(options);
  if (root === '/' && process.getuid?.() !== 0) throw new UsageError('schedule install writes to /etc: run it as root', { hint: 'or write the files elsewhere with --root DIR' });
  await buildContext(global, {}, reporter, signal); // checks the config and settings the schedule will run with
  const method: ScheduleMethod | undefined = options.systemd ? 'systemd' : options.cron ? 'cron' : undefined;
  const installed = await installSchedule({ root, ...(method ? { method } : {}), command: scheduledRenew(global), minute: randomInt(60) });
  reporter.result({ ok: true, method: installed.method, files: installed.files, activated: installed.activated, nextSteps: installed.nextSteps }, () => [
    `installed the ${installed.method === 'systemd' ? 'systemd timer' : 'cron job'} that runs acmectl renew twice a day: ${installed.files.join(', ')}`,
    ...(installed.nextSteps.length ? ['to start it:', ...installed.nextSteps.map((step) => `  ${step}`)] : []),
  ]);
  return 0;
};

/** `acmectl schedule status`: the renewal schedules on this machine, when ours runs next, and how the last renew ended. */
export const scheduleStatusCommand: Command<ScheduleOptions> = async ({ options, global, reporter, signal }) => {
  const ctx = await buildContext(global, {}, reporter, signal);
  const status = await scheduleStatus(rootOf(options), ctx.dataDir, new Date());
  const ours = status.schedules.filter((s) => s.client === 'acmectl');
  const others = status.schedules.filter((s) => s.client !== 'acmectl');
  reporter.result({ ok: true, ...status }, () => [
    ours.length ? `schedule: ${ours.map((s) => `${s.kind} (${s.path})`).join(', ')}` : 'schedule: none (acmectl schedule install sets one up)',
    `next run:  ${status.nextRun ?? (ours.some((s) => s.kind === 'systemd') ? 'see systemctl list-timers acmectl-renew.timer' : 'none')}`,
    `last run:  ${status.lastRun ? `${status.lastRun.finishedAt}, exit ${status.lastRun.exitCode}: ${status.lastRun.renewed} renewed, ${status.lastRun.notDue} not due, ${status.lastRun.failed} failed` : 'none on this host'}`,
    ...others.map((s) => `also renewing here: ${s.client} (${s.kind}) at ${s.path}; to stop it: ${s.disable}`),
  ], { always: true });
  return 0;
};

/** `acmectl schedule remove`: removes acmectl's schedule (not certbot's). */
export const scheduleRemove: Command<ScheduleOptions> = async ({ options, reporter }) => {
  const removed = await removeSchedule(rootOf(options));
  reporter.result({ ok: true, removed }, () => [removed.length ? `removed ${removed.join(', ')}` : 'no acmectl schedule was installed']);
  return 0;
};

function rootOf(options: ScheduleOptions): string {
  if (options.root === '') throw new UsageError('--root needs a directory');
  return options.root === undefined ? '/' : resolve(options.root);
}

/**
 * `renew -q` as this acmectl runs it now: this node, this script, the same data directory and config. A store
 * URL with a secret in it is refused: the schedule's files are readable by every user.
 */
function scheduledRenew(global: GlobalOptions): ScheduledCommand {
  const args = ['renew', '-q'];
  if (global.config) args.push('--config', resolve(global.config));
  if (global.store) {
    if (redactStoreUrl(global.store) !== global.store) {
      throw new UsageError('the store URL holds a secret, which the schedule\'s files would show to every user', { hint: 'put the secret in a file (?password_file= / ?token_file=) or the store in the config file' });
    }
    args.push('--store', global.store);
  }
  const env: Record<string, string> = {};
  if (process.env.ACMECTL_HOME) env.ACMECTL_HOME = resolve(process.env.ACMECTL_HOME);
  return { node: process.execPath, bin: realpathSync(process.argv[1]!), args, env };
}
