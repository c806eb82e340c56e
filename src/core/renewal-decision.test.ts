import { describe, expect, it } from 'vitest';
import type { StoredRenewalInfo } from './certificate-record.js';
import { chooseRenewalMoment, renewalDecision } from './renewal-decision.js';

const DAY = 86_400_000;
const start = new Date('2026-01-01T00:00:00Z');
const at = (days: number): Date => new Date(start.getTime() + days * DAY);
const cert = { notBefore: start, notAfter: at(90), serial: 'AB', revoked: false };
const ari = (windowStart: number, windowEnd: number, renewAt: number, serial = 'AB'): StoredRenewalInfo => ({
  serial,
  windowStart: at(windowStart).toISOString(),
  windowEnd: at(windowEnd).toISOString(),
  renewAt: at(renewAt).toISOString(),
  explanationURL: null,
  fetchedAt: at(0).toISOString(),
  retryAfter: at(0.25).toISOString(),
});

describe('renewal decision', () => {
  it.each([
    // name, input, due, rule, reason
    ['lifetime, early', { now: at(59) }, false, 'lifetime', 'not due: more than a third of the lifetime left'],
    ['lifetime, late', { now: at(61) }, true, 'lifetime', 'due: a third of the lifetime left'],
    ['ARI moment not come (lifetime says due)', { now: at(61), renewalInfo: ari(70, 72, 71) }, false, 'ari', "not due: the CA's renewal window (ARI) has not come"],
    ['ARI moment come (lifetime says not due)', { now: at(30.5), renewalInfo: ari(30, 31, 30.4) }, true, 'ari', "due: inside the CA's renewal window (ARI)"],
    ['ARI window already over', { now: at(40), renewalInfo: ari(30, 31, 50) }, true, 'ari', "due: inside the CA's renewal window (ARI)"],
    ['ARI of another serial is ignored', { now: at(30.5), renewalInfo: ari(30, 31, 30.4, 'CD') }, false, 'lifetime', 'not due: more than a third of the lifetime left'],
    ['--days wins over ARI', { now: at(30.5), renewalInfo: ari(30, 31, 30.4), days: 10 }, false, 'days', 'not due: more than 10 days left (--days)'],
    ['--days due', { now: at(81), days: 10 }, true, 'days', 'due: fewer than 10 days left (--days)'],
    ['revoked', { now: at(1), revoked: true, days: 0 }, true, 'revoked', 'due: revoked'],
    ['expired', { now: at(91), renewalInfo: ari(100, 101, 100) }, true, 'expired', 'due: expired'],
  ] as const)('%s', (_name, input, due, rule, reason) => {
    const decision = renewalDecision({ ...cert, ...input });
    expect({ due: decision.due, rule: decision.rule, reason: decision.reason }).toEqual({ due, rule, reason });
  });

  it('says half of the lifetime for short-lived certificates', () => {
    expect(renewalDecision({ ...cert, notAfter: at(6), now: at(3.5) }).reason).toBe('due: half of the lifetime left');
  });

  it('gives the ARI moment as the renewal time', () => {
    expect(renewalDecision({ ...cert, now: at(1), renewalInfo: ari(70, 72, 71) }).renewalTime).toEqual(at(71));
  });
});

describe('the moment chosen in a window', () => {
  const window = { start: at(10), end: at(12) };

  it('is random inside the window', () => {
    const moments = Array.from({ length: 200 }, () => chooseRenewalMoment(window, undefined).getTime());
    for (const moment of moments) {
      expect(moment).toBeGreaterThanOrEqual(window.start.getTime());
      expect(moment).toBeLessThan(window.end.getTime());
    }
    expect(new Set(moments).size).toBeGreaterThan(190);
    expect(chooseRenewalMoment(window, undefined, (span) => span / 2)).toEqual(at(11));
  });

  it('stays the same while the window does, and is chosen again when it moves', () => {
    const stored = ari(10, 12, 10.3);
    expect(chooseRenewalMoment(window, stored, () => 0)).toEqual(at(10.3));
    expect(chooseRenewalMoment({ start: at(11), end: at(12) }, stored, () => 0)).toEqual(at(11));
  });
});
