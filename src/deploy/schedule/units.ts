/**
 * The files that make the system run `acmectl renew` twice a day: a systemd service and timer, or a cron.d
 * file. Rendered from the command line to run, so that the schedule runs this very acmectl with this node.
 */

/** What the schedule runs: absolute paths, and the environment it needs (ACMECTL_HOME), never a secret. */
export interface ScheduledCommand {
  node: string;
  bin: string;
  /** Arguments after the bin: `renew -q` plus --config/--store when given at install. */
  args: string[];
  env: Record<string, string>;
}

export const SYSTEMD_SERVICE = 'acmectl-renew.service';
export const SYSTEMD_TIMER = 'acmectl-renew.timer';
export const CRON_FILE = 'acmectl';

/** A word for systemd's ExecStart or cron's command line: quoted when it has anything but safe characters. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function commandLine(command: ScheduledCommand): string {
  return [command.node, command.bin, ...command.args].map(shellWord).join(' ');
}

export function systemdService(command: ScheduledCommand): string {
  return [
    '# Written by `acmectl schedule install`; `acmectl schedule remove` removes it.',
    '[Unit]',
    'Description=Renew the certificates acmectl manages',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    ...Object.entries(command.env).map(([name, value]) => `Environment=${shellWord(`${name}=${value}`)}`),
    // The timer spreads the start (RandomizedDelaySec): renew's own random wait would only add to it.
    `ExecStart=${commandLine({ ...command, args: [...command.args, '--no-random-sleep'] })}`,
    '',
  ].join('\n');
}

/** Twice a day, at a random moment of the hour after (RandomizedDelaySec), caught up after downtime (Persistent). */
export function systemdTimer(): string {
  return [
    '# Written by `acmectl schedule install`; `acmectl schedule remove` removes it.',
    '[Unit]',
    'Description=Renew the certificates acmectl manages, twice a day',
    '',
    '[Timer]',
    'OnCalendar=*-*-* 00,12:00:00',
    'RandomizedDelaySec=1h',
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** Twice a day at `minute` past 00:00 and 12:00 (a minute chosen at install, so that hosts spread out). */
export function cronFile(command: ScheduledCommand, minute: number): string {
  return [
    '# Written by `acmectl schedule install`; `acmectl schedule remove` removes it.',
    'SHELL=/bin/sh',
    'PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin',
    ...Object.entries(command.env).map(([name, value]) => `${name}=${value}`),
    `${minute} 0,12 * * * root ${commandLine(command)}`,
    '',
  ].join('\n');
}

/** The next time a cron line "M 0,12 * * *" runs after `now` (local time, as cron reads it). */
export function nextCronRun(minute: number, now: Date): Date {
  for (let days = 0; days < 2; days++) {
    for (const hour of [0, 12]) {
      const at = new Date(now.getFullYear(), now.getMonth(), now.getDate() + days, hour, minute, 0, 0);
      if (at > now) return at;
    }
  }
  throw new Error('unreachable: a twice-daily schedule runs within a day');
}

/** The minute of an acmectl cron file (null when the file is not one of ours). */
export function cronMinuteOf(text: string): number | null {
  const match = /^(\d{1,2}) 0,12 \* \* \* root /m.exec(text);
  return match ? Number(match[1]) : null;
}
