import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

// Debian stable's Pebble (2.4): a CA without profiles and without renewal information.
let pebble: PebbleHandle;
beforeAll(async () => {
  pebble = await startPebble();
});
afterAll(async () => pebble?.stop());

describe('acmectl ca', () => {
  it('shows what the CA offers, in JSON and as text', async () => {
    const home = tempDir('ca');
    const json = await runCli(['ca', ...pebbleArgs(pebble), '--json'], { home });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      server: pebble.directoryUrl,
      preset: null,
      termsOfService: expect.stringMatching(/^data:text\/plain|^https?:\/\//),
      website: null,
      caaIdentities: [],
      externalAccountRequired: false,
      renewalInfo: false,
      profiles: {},
      keyChange: true,
      revocation: true,
    });
    const text = await runCli(['ca', ...pebbleArgs(pebble)], { home });
    expect(text.stdout).toMatch(/^renewal info \(ARI\): {2}no$/m);
    expect(text.stdout).toMatch(/^profiles: {12}none offered$/m);
  });
});

describe('a short-lived certificate at a CA without ARI', () => {
  let sixDays: PebbleHandle;
  beforeAll(async () => {
    sixDays = await startPebble({ config: { certificateValidityPeriod: 6 * 86_400 } });
  });
  afterAll(async () => sixDays?.stop());

  it('is due when half of its lifetime is left (the fallback rule for 10 days or less)', async () => {
    const home = tempDir('ca');
    const issued = await runCli(['issue', 'six-days.example.test', ...pebbleArgs(sixDays), '--http-port', String(sixDays.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'], { home });
    expect(issued.code, issued.stderr).toBe(0);
    const shown = JSON.parse((await runCli(['show', 'six-days.example.test', '--json'], { home })).stdout) as { notBefore: string; notAfter: string; renewal: { rule: string; at: string; due: boolean } };
    expect(shown.renewal).toMatchObject({ rule: 'lifetime', due: false });
    const half = (Date.parse(shown.notBefore) + Date.parse(shown.notAfter)) / 2;
    expect(Math.abs(Date.parse(shown.renewal.at) - half)).toBeLessThanOrEqual(1000);
  });
});

describe('issue --profile', () => {
  it('is refused before any order when the CA offers no profiles (exit 2)', async () => {
    const home = tempDir('ca');
    const args = ['issue', 'profile.example.test', ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--agree-tos', '--email', 'ops@example.com'];
    const result = await runCli([...args, '--profile', 'shortlived'], { home });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: the CA at ${pebble.directoryUrl} offers no certificate profiles, so --profile shortlived cannot be honoured`);
    // Nothing was ordered, not even an account registered.
    expect(JSON.parse((await runCli(['account', 'list', '--json'], { home })).stdout)).toEqual({ ok: true, accounts: [] });

    const malformed = await runCli([...args, '--profile', 'short lived'], { home });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--profile "short lived" is not a profile name/);
  });
});

// Pebble 2.10 (from Debian unstable, see README): profiles and renewal information.
describe('profiles at a CA that offers them', () => {
  let ari: PebbleHandle;
  beforeAll(async () => {
    // Pebble 2.10 gives an order without a profile one of its profiles at random: with eight of them, two
    // renewals that forgot the profile would both land on shortlived only 1 time in 64.
    const others = Object.fromEntries([30, 45, 60, 64, 90, 100].map((days) => [`days${days}`, { description: `${days} days`, validityPeriod: days * 86_400 }]));
    ari = await startPebble({ version: 'ari', profiles: { ...others, classic: { description: 'acmectl tests: 90-day certificates', validityPeriod: 7_776_000 }, shortlived: { description: 'acmectl tests: 160-hour certificates', validityPeriod: 576_000 } } });
  });
  afterAll(async () => ari?.stop());

  it('acmectl ca lists the profiles with their descriptions, and says the CA offers ARI', async () => {
    const home = tempDir('ca');
    const json = JSON.parse((await runCli(['ca', ...pebbleArgs(ari), '--json'], { home })).stdout) as { profiles: Record<string, string>; renewalInfo: boolean };
    expect(json.renewalInfo).toBe(true);
    expect(json.profiles).toEqual(Object.fromEntries(Object.entries(ari.profiles).map(([name, p]) => [name, p.description])));
    const text = await runCli(['ca', ...pebbleArgs(ari)], { home });
    expect(text.stdout).toMatch(/^renewal info \(ARI\): {2}yes$/m);
    expect(text.stdout).toMatch(/^ {2}shortlived: acmectl tests: 160-hour certificates$/m);
  });

  it('issue --profile shortlived gets a certificate of that profile, and renew keeps the profile', async () => {
    const home = tempDir('ca');
    const args = ['--http-port', String(ari.httpPort), '--http-address', '127.0.0.1'];
    const issued = await runCli(['issue', 'short.example.test', ...pebbleArgs(ari), ...args, '--profile', 'shortlived', '--email', 'ops@example.com', '--agree-tos', '--json'], { home });
    expect(issued.code, issued.stderr).toBe(0);
    const lifetime = (doc: { notBefore: string; notAfter: string }) => (Date.parse(doc.notAfter) - Date.parse(doc.notBefore)) / 1000;
    const expected = ari.profiles.shortlived!.validityPeriod;
    expect(Math.abs(lifetime(JSON.parse(issued.stdout)) - expected)).toBeLessThanOrEqual(1);
    expect((await runCli(['show', 'short.example.test'], { home })).stdout).toMatch(/^profile: {5}shortlived$/m);

    for (const version of [2, 3]) {
      const renewed = await runCli(['renew', 'short.example.test', '--force', '--json'], { home });
      expect(renewed.code, renewed.stderr).toBe(0);
      const shown = JSON.parse((await runCli(['show', 'short.example.test', '--json'], { home })).stdout) as { notBefore: string; notAfter: string; version: number };
      expect(shown.version).toBe(version);
      expect(Math.abs(lifetime(shown) - expected)).toBeLessThanOrEqual(1);
    }
  });

  it('an unknown profile is refused before any order (exit 2), listing what the CA offers', async () => {
    const home = tempDir('ca');
    const result = await runCli(['issue', 'x.example.test', ...pebbleArgs(ari), '--http-port', String(ari.httpPort), '--profile', 'longlived', '--email', 'ops@example.com', '--agree-tos'], { home });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: the CA at ${ari.directoryUrl} offers no profile "longlived"`);
    expect(result.stderr).toMatch(/hint: it offers: .*shortlived \(acmectl tests: 160-hour certificates\)/);
    expect(JSON.parse((await runCli(['account', 'list', '--json'], { home })).stdout)).toEqual({ ok: true, accounts: [] });
  });

  it('a 6-day certificate gets a renewal moment from the CA (ARI) inside its lifetime, well before it expires', async () => {
    const home = tempDir('ca');
    const args = ['--http-port', String(ari.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'];
    expect((await runCli(['issue', 'six-days.example.test', ...pebbleArgs(ari), ...args, '--profile', 'shortlived'], { home })).code).toBe(0);
    // The first renew run asks the CA for the window (not due yet) and stores it.
    const first = await runCli(['renew', '--no-random-sleep'], { home });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^not due six-days\.example\.test/m);
    const shown = JSON.parse((await runCli(['show', 'six-days.example.test', '--json'], { home })).stdout) as {
      notBefore: string;
      notAfter: string;
      renewal: { rule: string; at: string; due: boolean };
      renewalInfo: { windowStart: string; windowEnd: string; renewAt: string } | null;
    };
    expect(shown.renewal).toMatchObject({ rule: 'ari', due: false });
    const [notBefore, notAfter] = [Date.parse(shown.notBefore), Date.parse(shown.notAfter)];
    const { windowStart, windowEnd, renewAt } = shown.renewalInfo!;
    expect(Date.parse(windowStart)).toBeGreaterThan(notBefore);
    expect(Date.parse(windowEnd)).toBeLessThan(notAfter);
    expect(Date.parse(renewAt)).toBeGreaterThanOrEqual(Date.parse(windowStart));
    expect(Date.parse(renewAt)).toBeLessThanOrEqual(Date.parse(windowEnd));
    expect(shown.renewal.at).toBe(renewAt);
    expect(Date.parse(renewAt) - notBefore).toBeLessThan((notAfter - notBefore) * 0.9);
  });
});
