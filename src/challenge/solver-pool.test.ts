import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { SolverPool } from './solver-pool.js';

const standalone = { challenge: 'standalone' as const, httpPort: 80, httpAddress: null, webroot: null };

describe('SolverPool', () => {
  it('gives every certificate answered the same way one shared solver (one port-80 listener per run)', async () => {
    const pool = new SolverPool();
    const a = await pool.solverFor(standalone);
    const b = await pool.solverFor({ ...standalone });
    expect(a).toBe(b);
    expect(await pool.solverFor({ ...standalone, httpPort: 8080 })).not.toBe(a);
    expect(await pool.solverFor({ ...standalone, httpAddress: '127.0.0.1' })).not.toBe(a);
    await pool.closeAll();
  });
  it('shares a webroot writer per webroot', async () => {
    const pool = new SolverPool();
    const root = tempDir('pool');
    mkdirSync(join(root, 'other'));
    const webroot = { challenge: 'webroot' as const, httpPort: 80, httpAddress: null, webroot: root };
    expect(await pool.solverFor(webroot)).toBe(await pool.solverFor({ ...webroot }));
    expect(await pool.solverFor({ ...webroot, webroot: join(root, 'other') })).not.toBe(await pool.solverFor(webroot));
    await pool.closeAll();
  });
  it('refuses a stored webroot that is gone before anything is ordered', async () => {
    const pool = new SolverPool();
    const gone = join(tempDir('pool'), 'removed');
    await expect(pool.solverFor({ challenge: 'webroot', httpPort: 80, httpAddress: null, webroot: gone })).rejects.toThrow(/is not a directory any more/);
  });
});

import { MemoryStore } from '../store/memory.js';
import type { Store } from '../store/store.js';
import { StorePublishingSolver } from './store-published.js';

describe('SolverPool with a shared store', () => {
  const sharedStore = (): Store => Object.assign(new MemoryStore(), { shared: true }) as Store;

  it('wraps every local solver so its tokens are published to the shared store too', async () => {
    const pool = new SolverPool(sharedStore());
    expect(await pool.solverFor(standalone)).toBeInstanceOf(StorePublishingSolver);
    await pool.closeAll();
  });
  it('publishes only to the store for the store method', async () => {
    const pool = new SolverPool(sharedStore());
    const solver = await pool.solverFor({ ...standalone, challenge: 'store' });
    expect(solver).toBeInstanceOf(StorePublishingSolver);
    expect(solver.description).toMatch(/answered by acmectl serve/);
  });
  it('does not wrap solvers when the store is local', async () => {
    const pool = new SolverPool(new MemoryStore());
    expect(await pool.solverFor(standalone)).not.toBeInstanceOf(StorePublishingSolver);
    await expect(pool.solverFor({ ...standalone, challenge: 'store' })).rejects.toThrow(/needs a shared store/);
    await pool.closeAll();
  });
});
