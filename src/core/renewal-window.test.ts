import { describe, expect, it } from 'vitest';
import { daysLeft, isDue, renewalTime } from './renewal-window.js';

const DAY = 86_400_000;
const start = new Date('2026-01-01T00:00:00Z');
const at = (days: number): Date => new Date(start.getTime() + days * DAY);

describe('renewal window', () => {
  it('is due when a third of a 90-day lifetime is left', () => {
    const cert = { notBefore: start, notAfter: at(90) };
    expect(renewalTime(cert)).toEqual(at(60));
    expect(isDue({ ...cert, now: at(59.9) })).toBe(false);
    expect(isDue({ ...cert, now: at(60) })).toBe(true);
  });
  it('uses half of the lifetime for 10 days or less', () => {
    const cert = { notBefore: start, notAfter: at(6) };
    expect(renewalTime(cert)).toEqual(at(3));
    expect(isDue({ ...cert, now: at(2.9) })).toBe(false);
    expect(isDue({ ...cert, now: at(3.1) })).toBe(true);
  });
  it('also for a 20-second certificate', () => {
    const notAfter = new Date(start.getTime() + 20_000);
    expect(isDue({ notBefore: start, notAfter, now: new Date(start.getTime() + 9_000) })).toBe(false);
    expect(isDue({ notBefore: start, notAfter, now: new Date(start.getTime() + 10_001) })).toBe(true);
  });
  it('lets --days override', () => {
    const cert = { notBefore: start, notAfter: at(90) };
    expect(isDue({ ...cert, now: at(10), days: 85 })).toBe(true);
    expect(isDue({ ...cert, now: at(70), days: 10 })).toBe(false);
  });
  it('counts whole days left', () => {
    expect(daysLeft(at(90), at(0.5))).toBe(89);
    expect(daysLeft(at(1), at(2))).toBe(-1);
  });
});
