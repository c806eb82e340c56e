import { describe, expect, it } from 'vitest';
import { randomSleepMs, wantsRandomSleep } from './renew.js';

describe('random sleep before the first order', () => {
  const cron = { interactive: false, named: false, force: false, dryRun: false };
  it('is on by default when nobody watches (cron), off on a terminal', () => {
    expect(wantsRandomSleep(undefined, cron)).toBe(true);
    expect(wantsRandomSleep(undefined, { ...cron, interactive: true })).toBe(false);
  });
  it('is off by default when a person names certificates, forces a renewal or tests with --dry-run', () => {
    expect(wantsRandomSleep(undefined, { ...cron, named: true })).toBe(false);
    expect(wantsRandomSleep(undefined, { ...cron, force: true })).toBe(false);
    expect(wantsRandomSleep(undefined, { ...cron, dryRun: true })).toBe(false);
    expect(wantsRandomSleep(true, { ...cron, named: true, force: true })).toBe(true);
  });
  it('follows --random-sleep and --no-random-sleep', () => {
    expect(wantsRandomSleep(true, { ...cron, interactive: true })).toBe(true);
    expect(wantsRandomSleep(false, cron)).toBe(false);
  });
  it('lasts from 0 to 480 s, like certbot and lego', () => {
    // The lowest and the highest draw of the random source.
    expect(randomSleepMs(() => 0)).toBe(0);
    expect(randomSleepMs((bound) => bound - 1)).toBe(480_000);
    const drawn = randomSleepMs();
    expect(Number.isInteger(drawn) && drawn >= 0 && drawn <= 480_000, String(drawn)).toBe(true);
  });
});

import type { CertificateRecord } from '../../core/certificate-record.js';
import { renewalRequest } from './renew.js';

describe('renewal requests', () => {
  const record = (server: string) =>
    ({
      name: 'example.com',
      identifiers: [{ type: 'dns', value: 'example.com' }],
      settings: { server, email: 'ops@example.com' },
      current: {},
      history: [],
    }) as unknown as CertificateRecord;

  it('orders a dry run from the staging directory of a preset CA', () => {
    const request = renewalRequest(record('https://acme-v02.api.letsencrypt.org/directory'), { force: false, days: undefined, dryRun: true });
    expect(request.orderFrom).toBe('https://acme-staging-v02.api.letsencrypt.org/directory');
    expect(request.dryRun).toBe(true);
  });
  it('orders a dry run from the CA itself when it has no staging directory', () => {
    expect(renewalRequest(record('https://acme.zerossl.com/v2/DV90'), { force: false, days: undefined, dryRun: true }).orderFrom).toBe('https://acme.zerossl.com/v2/DV90');
    expect(renewalRequest(record('https://ca.internal/dir'), { force: false, days: undefined, dryRun: true }).orderFrom).toBe('https://ca.internal/dir');
  });
  it('orders a real renewal from the stored CA with the stored settings', () => {
    const request = renewalRequest(record('https://acme-v02.api.letsencrypt.org/directory'), { force: true, days: 30, dryRun: false });
    expect(request).toMatchObject({ orderFrom: 'https://acme-v02.api.letsencrypt.org/directory', force: true, days: 30, dryRun: false, account: { email: 'ops@example.com' } });
  });
});
