import { describe, expect, it } from 'vitest';
import { checkClock } from './clock.js';

const ca = new Date('2026-11-29T12:00:00Z');
const at = (seconds: number): Date => new Date(ca.getTime() + seconds * 1000);

describe('checkClock', () => {
  it.each([
    [0, 'ok', "this machine's clock agrees with the CA's (2026-11-29T12:00:00.000Z)"],
    [-60, 'ok', "this machine's clock is 60 s behind the CA's (2026-11-29T12:00:00.000Z)"],
    [61, 'warn', "this machine's clock is 61 s ahead of the CA's (2026-11-29T12:00:00.000Z)"],
    [-300, 'warn', "this machine's clock is 300 s behind the CA's (2026-11-29T12:00:00.000Z)"],
    [301, 'fail', "this machine's clock is 301 s ahead of the CA's (2026-11-29T12:00:00.000Z)"],
  ])('%i s off: %s', (skew, verdict, detail) => {
    const check = checkClock('https://ca.example/dir', ca, at(skew));
    expect(check).toMatchObject({ name: 'clock', verdict, detail });
    expect(check.fix === null).toBe(verdict === 'ok');
  });

  it('warns when the CA sent no Date header', () => {
    expect(checkClock('https://ca.example/dir', null, ca)).toMatchObject({ verdict: 'warn', detail: 'https://ca.example/dir sent no Date header: the clock was not checked' });
  });
});
