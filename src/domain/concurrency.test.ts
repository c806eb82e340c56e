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

describe('slots by rank', () => {
  it('serves the lowest rank first, whatever the order of arrival; equal ranks in order of arrival', async () => {
    const pool = slots(1);
    const first = await pool.acquire(5);
    const granted: string[] = [];
    const ask = (rank: number, label: string): Promise<() => void> =>
      pool.acquire(rank).then((release) => {
        granted.push(label);
        return release;
      });
    const [w3, w1a, w2, w1b] = [ask(3, '3'), ask(1, '1a'), ask(2, '2'), ask(1, '1b')];
    const tick = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));
    await tick();
    expect(granted).toEqual([]);
    first();
    await tick();
    expect(granted).toEqual(['1a']);
    (await w1a)();
    await tick();
    expect(granted).toEqual(['1a', '1b']);
    (await w1b)();
    await tick();
    expect(granted).toEqual(['1a', '1b', '2']);
    (await w2)();
    await tick();
    expect(granted).toEqual(['1a', '1b', '2', '3']);
    (await w3)();
  });
});
