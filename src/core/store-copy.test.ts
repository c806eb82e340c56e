import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import { copyStore } from './store-copy.js';

const bytes = (text: string): Uint8Array => Buffer.from(text);

describe('copyStore', () => {
  it('copies accounts and certificates, not challenges; is idempotent; leaves conflicts unless asked', async () => {
    const from = new MemoryStore();
    const to = new MemoryStore();
    await from.put('accounts/abc/ops@example.com', bytes('account'));
    await from.put('certs/a.example.com', bytes('A'));
    await from.put('certs/b.example.com', bytes('B'));
    await from.put('challenges/tok', bytes('ka'), { ttlMs: 60_000 });
    await to.put('certs/b.example.com', bytes('B-other'));

    expect(await copyStore(from, to, { overwrite: false })).toEqual({
      copied: ['accounts/abc/ops@example.com', 'certs/a.example.com'],
      unchanged: [],
      conflicts: ['certs/b.example.com'],
    });
    expect(Buffer.from((await to.get('certs/b.example.com'))!.value).toString()).toBe('B-other');
    expect(await to.get('challenges/tok')).toBeNull();

    expect(await copyStore(from, to, { overwrite: false })).toMatchObject({ copied: [], unchanged: ['accounts/abc/ops@example.com', 'certs/a.example.com'] });
    expect(await copyStore(from, to, { overwrite: true })).toMatchObject({ copied: ['certs/b.example.com'], conflicts: [] });
    expect(Buffer.from((await to.get('certs/b.example.com'))!.value).toString()).toBe('B');
  });
});
