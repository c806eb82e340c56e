import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('memory', { open: async () => new MemoryStore() });

describe('MemoryStore', () => {
  it('says what it is', () => {
    const store = new MemoryStore();
    expect(store.kind).toBe('memory');
    expect(store.shared).toBe(false);
  });

  it('is private to its instance', async () => {
    const one = new MemoryStore();
    const two = new MemoryStore();
    await one.put('k', new Uint8Array([1]));
    expect(await two.get('k')).toBeNull();
    expect(await two.lock('lock', { ttlMs: 10_000 })).not.toBeNull();
    expect(await one.lock('lock', { ttlMs: 10_000 })).not.toBeNull();
    await Promise.all([one.close(), two.close()]);
  });

  it('rejects use after close', async () => {
    const store = new MemoryStore();
    await store.close();
    await expect(store.get('k')).rejects.toThrow(/closed/);
    await expect(store.lock('k', { ttlMs: 1_000 })).rejects.toThrow(/closed/);
    await store.close(); // idempotent
  });

  it('rejects contradictory or meaningless put options', async () => {
    const store = new MemoryStore();
    await expect(store.put('k', new Uint8Array(), { ifRev: '1', ifAbsent: true })).rejects.toThrow(TypeError);
    await expect(store.put('k', new Uint8Array(), { ttlMs: 0 })).rejects.toThrow(RangeError);
    await expect(store.put('k', new Uint8Array(), { ttlMs: Number.NaN })).rejects.toThrow(RangeError);
    expect(await store.get('k')).toBeNull();
    await store.close();
  });

  it('a held lease does not keep the process alive (its timers are unref’d)', () => {
    // Built code in a child process: it takes a lease and never releases it. If a refresh timer were
    // ref'd, the child would refresh forever and spawnSync would hit its timeout.
    const script = `
      const { openStore } = await import('./dist/store/open.js');
      const store = await openStore('memory:');
      const lease = await store.lock('held-forever', { ttlMs: 60_000 });
      console.log(lease === null ? 'not-acquired' : 'acquired');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.error, 'child exited on its own').toBeUndefined();
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('acquired');
    expect(child.status).toBe(0);
  });
});
