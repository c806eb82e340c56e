import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import { certificateNames } from './certificate-list.js';

describe('certificateNames', () => {
  it('lists the names under certs/ from the keys, leaving out keys that are no certificate name (shells expand them)', async () => {
    const store = new MemoryStore();
    for (const key of ['certs/b.example.com', 'certs/a.example.com', 'certs/$(touch pwned)', 'certs/-rf', 'accounts/x', 'certs-old/c.example.com']) {
      await store.put(key, new Uint8Array([1]));
    }
    expect(await certificateNames(store)).toEqual(['a.example.com', 'b.example.com']);
  });
});
