import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

let pebble: PebbleHandle;
let home: string;
beforeAll(async () => {
  pebble = await startPebble();
  home = tempDir('monitoring');
});
afterAll(async () => pebble?.stop());

const issue = (names: string[], extra: string[] = []) =>
  runCli(['issue', ...names, ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos', ...extra], { home });
const show = async (name: string) => JSON.parse((await runCli(['show', name, '--json'], { home })).stdout) as { notAfter: string; versions: { issuedAt: string }[]; lastAttempt: { at: string; ok: boolean; error?: string } | null };

/** promtool (from Debian's prometheus package) is the real parser and linter of the text format. */
function promtoolCheck(text: string): void {
  try {
    execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  } catch (error) {
    const { status, stdout, stderr } = error as { status?: number; stdout?: string; stderr?: string };
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('promtool is not installed: apt-get install prometheus (.ci/run installs it)');
    throw new Error(`promtool check metrics failed (${status}): ${stdout}${stderr}`);
  }
}

/** name{name="x"} value lines → Map("name|x" → value). */
function samples(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{name="([^"]*)"\})? (-?[\d.e+]+)$/.exec(line);
    if (match) result.set(`${match[1]}|${match[2] ?? ''}`, Number(match[3]));
  }
  return result;
}

describe('monitoring: list --format prometheus, --expiring, the last attempt', () => {
  it('writes metrics promtool accepts, with expiry, last success and last attempt per certificate', async () => {
    expect((await issue(['ok.monitor.test'])).code).toBe(0);
    expect((await issue(['bad.monitor.test'])).code).toBe(0);
    // A forced renewal that cannot be validated (nothing answers on this port) is a failed attempt.
    const failed = await issue(['bad.monitor.test'], ['--force', '--http-port', '1', '--order-timeout', '20']);
    expect(failed.code).not.toBe(0);

    const result = await runCli(['list', '--format', 'prometheus'], { home });
    expect(result.code).toBe(0);
    promtoolCheck(result.stdout);
    const values = samples(result.stdout);
    const ok = await show('ok.monitor.test');
    const bad = await show('bad.monitor.test');
    expect(values.get('acmectl_certificates|')).toBe(2);
    expect(values.get('acmectl_certificate_not_after_timestamp_seconds|ok.monitor.test')).toBe(Math.floor(Date.parse(ok.notAfter) / 1000));
    const left = values.get('acmectl_certificate_seconds_left|ok.monitor.test')!;
    expect(Math.abs(left - (Date.parse(ok.notAfter) - Date.now()) / 1000)).toBeLessThan(120);
    expect(values.get('acmectl_certificate_last_success_timestamp_seconds|ok.monitor.test')).toBe(Math.floor(Date.parse(ok.versions[0]!.issuedAt) / 1000));
    expect(values.get('acmectl_certificate_last_attempt_success|ok.monitor.test')).toBe(1);
    expect(values.get('acmectl_certificate_last_attempt_success|bad.monitor.test')).toBe(0);
    expect(values.get('acmectl_certificate_last_attempt_timestamp_seconds|bad.monitor.test')).toBe(Math.floor(Date.parse(bad.lastAttempt!.at) / 1000));
    expect(values.get('acmectl_certificate_last_attempt_timestamp_seconds|bad.monitor.test')).toBeGreaterThan(values.get('acmectl_certificate_last_success_timestamp_seconds|bad.monitor.test')!);
    expect(values.get('acmectl_certificate_revoked|ok.monitor.test')).toBe(0);
    // The failure is kept with the record, for show and scripts.
    expect(bad.lastAttempt).toMatchObject({ ok: false });
    expect(bad.lastAttempt!.error).toMatch(/./);
    expect(ok.lastAttempt).toMatchObject({ ok: true });
  });

  it('writes the metrics atomically to --output for the textfile collector', async () => {
    const dir = tempDir('monitoring-out');
    const file = join(dir, 'acmectl.prom');
    const result = await runCli(['list', '--format', 'prometheus', '--output', file], { home });
    expect(result.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    promtoolCheck(text);
    expect(samples(text).get('acmectl_certificates|')).toBe(2);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['acmectl.prom']);
  });

  it('exits 1 with --expiring when a certificate expires within the days, 0 when none does', async () => {
    const none = await runCli(['list', '--expiring', '0'], { home });
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no certificate expires within 0 days');
    const some = await runCli(['list', '--expiring', '100000', '--json'], { home });
    expect(some.code).toBe(1);
    expect((JSON.parse(some.stdout) as { certificates: { name: string }[] }).certificates.map((c) => c.name)).toEqual(['bad.monitor.test', 'ok.monitor.test']);
  });

  it('refuses --output without --format prometheus, and prometheus with --json on stdout (exit 2)', async () => {
    expect((await runCli(['list', '--output', 'x.prom'], { home })).code).toBe(2);
    expect((await runCli(['list', '--format', 'prometheus', '--json'], { home })).code).toBe(2);
  });
});
