import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { OverlayStore } from '../../src/store/overlay.js';
import { describeStoreContract } from './contract.js';

// Over an empty base, the overlay must behave like any store.
describeStoreContract('overlay (dry run)', { open: async () => new OverlayStore(new MemoryStore()) });

const bytes = (text: string): Uint8Array => Buffer.from(text);
const text = (entry: { value: Uint8Array } | null): string | null => (entry ? Buffer.from(entry.value).toString() : null);

describe('OverlayStore over a populated store', () => {
  async function setup() {
    const base = new MemoryStore();
    await base.put('certs/a', bytes('A1'));
    await base.put('certs/b', bytes('B1'));
    const baseRevs = { a: (await base.get('certs/a'))!.rev, b: (await base.get('certs/b'))!.rev };
    return { base, overlay: new OverlayStore(base), baseRevs };
  }

  it('reads the base, keeps its own writes and deletions, and never changes the base', async () => {
    const { base, overlay, baseRevs } = await setup();
    expect(text(await overlay.get('certs/a'))).toBe('A1');
    const a = (await overlay.get('certs/a'))!;
    expect(await overlay.put('certs/a', bytes('A2'), { ifRev: a.rev })).toMatchObject({ ok: true });
    expect(await overlay.delete('certs/b')).toBe(true);
    expect(await overlay.put('certs/c', bytes('C1'), { ifAbsent: true })).toMatchObject({ ok: true });
    expect(text(await overlay.get('certs/a'))).toBe('A2');
    expect(await overlay.get('certs/b')).toBeNull();
    const listed: string[] = [];
    for await (const key of overlay.list('certs/')) listed.push(key);
    expect(listed).toEqual(['certs/a', 'certs/c']);

    expect(text(await base.get('certs/a'))).toBe('A1');
    expect((await base.get('certs/a'))!.rev).toBe(baseRevs.a);
    expect((await base.get('certs/b'))!.rev).toBe(baseRevs.b);
    expect(await base.get('certs/c')).toBeNull();
  });

  it('refuses a stale revision from the base after an overlay write', async () => {
    const { overlay } = await setup();
    const a = (await overlay.get('certs/a'))!;
    await overlay.put('certs/a', bytes('A2'));
    expect(await overlay.put('certs/a', bytes('A3'), { ifRev: a.rev })).toEqual({ ok: false });
  });

  it('does not let a base entry reappear when an overlay write over it expires', async () => {
    const { overlay } = await setup();
    await overlay.put('certs/a', bytes('short'), { ttlMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await overlay.get('certs/a')).toBeNull();
  });

  it('takes locks only in memory', async () => {
    const { base, overlay } = await setup();
    const lease = await overlay.lock('certs/a', { ttlMs: 10_000 });
    expect(lease).not.toBeNull();
    expect(await base.lock('certs/a', { ttlMs: 10_000 })).not.toBeNull();
  });
});
