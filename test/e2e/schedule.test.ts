import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

/** A machine root for the schedule's files (--root): what /etc would hold, without touching this machine's. */
function machine(): { root: string; home: string } {
  return { root: tempDir('schedule-root'), home: tempDir('schedule-home') };
}

describe('acmectl schedule', () => {
  it('installs a cron job that runs this acmectl twice a day, and status shows when it runs next', async () => {
    const { root, home } = machine();
    const installed = await runCli(['schedule', 'install', '--cron', '--root', root, '--json'], { home });
    expect(installed.code, installed.stderr).toBe(0);
    const path = join(root, 'etc/cron.d/acmectl');
    expect(JSON.parse(installed.stdout)).toMatchObject({ ok: true, method: 'cron', files: [path] });
    const text = readFileSync(path, 'utf8');
    const line = text.split('\n').find((l) => /^\d/.test(l))!;
    expect(line).toMatch(new RegExp(`^(\\d{1,2}) 0,12 \\* \\* \\* root ${process.execPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\S*acmectl.js renew -q$`));
    expect(text).toContain(`ACMECTL_HOME=${home}`);
    expect(statSync(path).mode & 0o777).toBe(0o644);

    const status = await runCli(['schedule', 'status', '--root', root, '--json'], { home });
    expect(status.code, status.stderr).toBe(0);
    const document = JSON.parse(status.stdout) as { schedules: { client: string; kind: string }[]; nextRun: string; lastRun: null };
    expect(document.schedules).toMatchObject([{ client: 'acmectl', kind: 'cron' }]);
    const next = new Date(document.nextRun);
    const minute = Number(line.split(' ')[0]);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(12 * 3600_000);
    expect([next.getMinutes(), [0, 12].includes(next.getHours())]).toEqual([minute, true]);
    expect(document.lastRun).toBeNull();
  });

  it('installs a systemd service and timer, and says how to start them when it cannot itself', async () => {
    const { root, home } = machine();
    const installed = await runCli(['schedule', 'install', '--systemd', '--root', root], { home });
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toContain('systemctl enable --now acmectl-renew.timer');
    const service = readFileSync(join(root, 'etc/systemd/system/acmectl-renew.service'), 'utf8');
    expect(service).toMatch(/^Type=oneshot$/m);
    expect(service).toMatch(new RegExp(`^ExecStart=\\S+ \\S*acmectl.js renew -q --no-random-sleep$`, 'm'));
    expect(service).toContain(`Environment=ACMECTL_HOME=${home}`);
    const timer = readFileSync(join(root, 'etc/systemd/system/acmectl-renew.timer'), 'utf8');
    expect(timer).toMatch(/^OnCalendar=\*-\*-\* 00,12:00:00$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    expect(timer).toMatch(/^WantedBy=timers.target$/m);
  });

  it.each([
    ['certbot\'s systemd timer', 'etc/systemd/system/timers.target.wants/certbot.timer', /certbot \(systemd\).*systemctl disable --now certbot\.timer/s],
    ['certbot\'s cron.d file', 'etc/cron.d/certbot', /certbot \(cron\).*remove \/etc\/cron\.d\/certbot/s],
    ["acmectl's own schedule", 'etc/cron.d/acmectl', /acmectl \(cron\).*acmectl schedule remove/s],
    ['acme.sh in a crontab', 'var/spool/cron/crontabs/root', /acme\.sh \(cron\).*--uninstall-cronjob/s],
  ])('refuses while %s is installed, saying where and how to stop it, and writes nothing', async (_label, file, message) => {
    const { root, home } = machine();
    mkdirSync(join(root, file, '..'), { recursive: true });
    if (file.endsWith('.timer')) symlinkSync('/lib/systemd/system/certbot.timer', join(root, file));
    else writeFileSync(join(root, file), file.includes('crontabs') ? '0 0 * * * "/root/.acme.sh"/acme.sh --cron --home "/root/.acme.sh" > /dev/null\n' : '0 */12 * * * root test -x /usr/bin/certbot && certbot -q renew\n');
    const result = await runCli(['schedule', 'install', '--cron', '--root', root], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(join(root, file));
    expect(result.stderr).toMatch(message);
    if (!file.endsWith('acmectl')) expect(existsSync(join(root, 'etc/cron.d/acmectl'))).toBe(false);
  });

  it('shows the last renew of this host, and remove takes the schedule away', async () => {
    const { root, home } = machine();
    expect((await runCli(['schedule', 'install', '--cron', '--root', root], { home })).code).toBe(0);
    const renew = await runCli(['renew'], { home });
    expect(renew.code, renew.stderr).toBe(0);
    const status = await runCli(['schedule', 'status', '--root', root], { home });
    expect(status.stdout).toMatch(/^last run: {2}\d{4}-\d\d-\d\dT.*, exit 0: 0 renewed, 0 not due, 0 failed$/m);

    const removed = await runCli(['schedule', 'remove', '--root', root], { home });
    expect(removed.code).toBe(0);
    expect(existsSync(join(root, 'etc/cron.d/acmectl'))).toBe(false);
    expect((await runCli(['schedule', 'status', '--root', root], { home })).stdout).toMatch(/^schedule: none/m);
  });

  it('refuses a store URL with a password in it (the files are world-readable)', async () => {
    const { root, home } = machine();
    const result = await runCli(['schedule', 'install', '--cron', '--root', root, '--store', 'redis://:s3cret@127.0.0.1:6379/0'], { home });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/holds a secret/);
    expect(result.stderr).not.toContain('s3cret');
    expect(existsSync(join(root, 'etc/cron.d/acmectl'))).toBe(false);
  });
});
