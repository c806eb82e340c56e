import { describe, expect, it } from 'vitest';
import { mapWithConcurrency, slots } from './concurrency.js';

describe('mapWithConcurrency', () => {
  it('keeps at most `limit` in flight, runs everything, and keeps the order of results', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapWithConcurrency([50, 10, 30, 20, 40, 5, 15], 3, async (ms) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, ms));
      inFlight--;
      return ms * 2;
    });
    expect(peak).toBe(3);
    expect(results).toEqual([100, 20, 60, 40, 80, 10, 30]);
  });
  it('copes with fewer items than workers, and with none', async () => {
    expect(await mapWithConcurrency([1], 4, async (n) => n)).toEqual([1]);
    expect(await mapWithConcurrency([], 4, async (n) => n)).toEqual([]);
  });
});

describe('slots', () => {
  it('grants at most `limit` at once, in the order asked, and a second release of one grant frees nothing more', async () => {
    const pool = slots(2);
    const first = await pool.acquire();
    const second = await pool.acquire();
    const granted: string[] = [];
    const third = pool.acquire().then((release) => (granted.push('third'), release));
    const fourth = pool.acquire().then((release) => (granted.push('fourth'), release));
    await new Promise((resolve) => setImmediate(resolve));
    expect(granted).toEqual([]);
    first();
    first(); // twice: still one slot
    const releaseThird = await third;
    await new Promise((resolve) => setImmediate(resolve));
    expect(granted).toEqual(['third']);
    second();
    (await fourth)();
    releaseThird();
    expect(granted).toEqual(['third', 'fourth']);
    // Everything released: two at once again, at once.
    await pool.acquire();
    await pool.acquire();
  });
});
