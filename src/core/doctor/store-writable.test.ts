import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import { checkStoreWritable } from './store-writable.js';

describe('checkStoreWritable', () => {
  it('writes, reads back and deletes a probe key under doctor/, leaving the store as it was', async () => {
    const store = new MemoryStore();
    const result = await checkStoreWritable({ shown: 'memory:', exists: true, directory: null, open: async () => store });
    expect(result.check).toMatchObject({ name: 'store', verdict: 'ok', detail: 'memory: is reachable and writable' });
    const keys: string[] = [];
    for await (const key of store.list('')) keys.push(key);
    expect(keys).toEqual([]);
  });

  it('fails with the reason when the store cannot be opened', async () => {
    const result = await checkStoreWritable({ shown: 'redis://cache:6379/0', exists: true, directory: null, open: async () => Promise.reject(new Error('connection refused')) });
    expect(result.check).toMatchObject({ verdict: 'fail', detail: 'could not open redis://cache:6379/0: connection refused' });
    expect(result.store).toBeNull();
  });

  it('does not create a store that does not exist yet; checks where it would be created', async () => {
    const dir = tempDir('data');
    const result = await checkStoreWritable({ shown: `sqlite:${join(dir, 'acmectl.db')}`, exists: false, directory: dir, open: () => Promise.reject(new Error('must not be opened')) });
    expect(result.check).toMatchObject({ verdict: 'ok', detail: `no store yet at sqlite:${join(dir, 'acmectl.db')}: it is created at the first issue` });
  });
});
