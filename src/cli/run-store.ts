import { unknownCertificate } from '../core/certificate-list.js';
import { MemoryStore } from '../store/memory.js';
import { OverlayStore } from '../store/overlay.js';
import type { Store } from '../store/store.js';
import type { Context } from './context.js';

/**
 * The store a run works on. For a dry run: an overlay that reads the real store and forgets every write, over
 * an empty memory store when no store exists yet (so a dry run never creates one).
 */
export async function openRunStore(ctx: Context, dryRun: boolean): Promise<Store> {
  if (!dryRun) return ctx.openStore();
  return new OverlayStore(ctx.storeMayHoldData() ? await ctx.openStore() : new MemoryStore());
}

/**
 * The store a command about one named certificate (show, export, revoke, delete) reads. When no store exists
 * yet, no certificate has that name: said as for an unknown name, without creating the store.
 */
export async function openStoreHolding(ctx: Context, name: string): Promise<Store> {
  if (!ctx.storeMayHoldData()) throw unknownCertificate(name);
  return ctx.openStore();
}
