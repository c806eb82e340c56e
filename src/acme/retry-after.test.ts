import { describe, expect, it } from 'vitest';
import { LONGEST_REMEMBERED_WAIT_MS, parseRetryAfter, retryAfterUntil } from './retry-after.js';

const NOW = Date.parse('2026-11-29T14:00:00.000Z');

describe('parseRetryAfter', () => {
  it('reads delay-seconds, with surrounding spaces', () => {
    expect(parseRetryAfter('7', NOW)).toBe(7000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
  });
  it('reads the three HTTP-date forms, all in GMT', () => {
    expect(parseRetryAfter('Sun, 29 Nov 2026 14:03:00 GMT', NOW)).toBe(180_000);
    expect(parseRetryAfter('Sunday, 29-Nov-26 14:03:00 GMT', NOW)).toBe(180_000);
    expect(parseRetryAfter('Sun Nov 29 14:03:00 2026', NOW)).toBe(180_000);
    expect(parseRetryAfter(new Date(NOW + 5000).toUTCString(), NOW)).toBe(5000);
  });
  it('gives 0 for a date already past', () => expect(parseRetryAfter('Sun, 29 Nov 2026 13:00:00 GMT', NOW)).toBe(0));
  it('ignores absence, negative numbers, fractions and garbage that Date.parse would guess at', () => {
    for (const header of [undefined, null, 42, '', '  ', '-5', '1.5', 'soon', '2099-01-01', 'tomorrow 12:00', '2026-11-29T14:03:00Z', 'Sun, 29 Nov 2026 14:03:00 PST']) {
      expect(parseRetryAfter(header, NOW), String(header)).toBeUndefined();
    }
  });
});

describe('retryAfterUntil', () => {
  const now = new Date(NOW + 250); // not on a whole second
  it('is the time the CA named, rounded up to the second', () => {
    expect(retryAfterUntil('3', now)?.toISOString()).toBe('2026-11-29T14:00:04.000Z');
    expect(retryAfterUntil('Sun, 29 Nov 2026 14:03:00 GMT', now)?.toISOString()).toBe('2026-11-29T14:03:00.000Z');
  });
  it('is nothing when the CA asked for no wait: none, zero, past or garbage', () => {
    for (const header of [undefined, '0', 'Sun, 29 Nov 2026 13:00:00 GMT', '-30', 'later']) expect(retryAfterUntil(header, now), String(header)).toBeUndefined();
  });
  it('caps absurd waits at 7 days', () => {
    expect(LONGEST_REMEMBERED_WAIT_MS).toBe(7 * 86_400_000);
    expect(retryAfterUntil('999999999999', now)?.getTime()).toBe(Math.ceil((now.getTime() + LONGEST_REMEMBERED_WAIT_MS) / 1000) * 1000);
    expect(retryAfterUntil('Fri, 31 Dec 9999 23:59:59 GMT', now)?.getTime()).toBe(Math.ceil((now.getTime() + LONGEST_REMEMBERED_WAIT_MS) / 1000) * 1000);
  });
});
