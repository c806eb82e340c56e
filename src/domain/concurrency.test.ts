import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from './concurrency.js';

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
