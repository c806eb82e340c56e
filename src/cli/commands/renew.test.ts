import { describe, expect, it } from 'vitest';
import { RANDOM_SLEEP_MAX_MS, wantsRandomSleep } from './renew.js';

describe('random sleep before the first order', () => {
  it('is on by default when nobody watches (cron), off on a terminal', () => {
    expect(wantsRandomSleep(undefined, false)).toBe(true);
    expect(wantsRandomSleep(undefined, true)).toBe(false);
  });
  it('follows --random-sleep and --no-random-sleep', () => {
    expect(wantsRandomSleep(true, true)).toBe(true);
    expect(wantsRandomSleep(false, false)).toBe(false);
  });
  it('lasts at most 480 s, like certbot and lego', () => {
    expect(RANDOM_SLEEP_MAX_MS).toBe(480_000);
  });
});
