/** Runs `fn` over the items with at most `limit` in flight, keeping the input order in the results. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/** A counting semaphore: `acquire()` resolves once fewer than `limit` holders remain; each must call its release once. */
export function slots(limit: number): { acquire(): Promise<() => void> } {
  let held = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else held -= 1;
  };
  return {
    acquire: () =>
      new Promise((resolve) => {
        const grant = (): void => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            release();
          });
        };
        if (held < Math.max(1, limit)) {
          held += 1;
          grant();
        } else {
          waiting.push(grant);
        }
      }),
  };
}
