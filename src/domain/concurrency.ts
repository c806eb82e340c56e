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

/**
 * A counting semaphore: `acquire(rank)` resolves once fewer than `limit` holders remain; each must call its
 * release once (a second call frees nothing). Waiters are served lowest rank first, then in the order they came:
 * a run that gives each certificate its place as the rank orders them in that place, however their preparations
 * interleave.
 */
export function slots(limit: number): { acquire(rank?: number): Promise<() => void> } {
  let held = 0;
  let arrivals = 0;
  const waiting: { rank: number; arrival: number; grant: () => void }[] = [];
  const release = (): void => {
    if (waiting.length === 0) {
      held -= 1;
      return;
    }
    let next = 0;
    for (let i = 1; i < waiting.length; i++) {
      const [a, b] = [waiting[i]!, waiting[next]!];
      if (a.rank < b.rank || (a.rank === b.rank && a.arrival < b.arrival)) next = i;
    }
    waiting.splice(next, 1)[0]!.grant();
  };
  return {
    acquire: (rank = 0) =>
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
          waiting.push({ rank, arrival: arrivals++, grant });
        }
      }),
  };
}
