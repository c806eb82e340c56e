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
