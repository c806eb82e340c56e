import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
    const root = mkdtempSync(join(tmpdir(), 'acmectl-pool-'));
    const webroot = { challenge: 'webroot' as const, httpPort: 80, httpAddress: null, webroot: root };
    expect(await pool.solverFor(webroot)).toBe(await pool.solverFor({ ...webroot }));
    expect(await pool.solverFor({ ...webroot, webroot: join(root, 'other') })).not.toBe(await pool.solverFor(webroot));
    await pool.closeAll();
  });
});
