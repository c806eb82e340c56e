import { certificateNames as namesIn } from '../../core/certificate-list.js';
import { parseStoreUrl } from '../../store/open.js';
import type { Store } from '../../store/store.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import type { Context } from '../context.js';

/**
 * How long a SQLite store locked by another process is waited for. The wait blocks the process (SQLite's busy
 * handler sleeps), and a shell waits for it on every TAB; in WAL mode a reader is rarely made to wait at all.
 */
const BUSY_TIMEOUT_MS = 200;

/**
 * `acmectl __certificate-names` (hidden): the stored certificate names, one a line, for the shell completions of
 * the commands that take them. Only what is cheap: a local SQLite store that exists, opened read-only (nothing
 * created, migrated or locked). A shared store (Redis, etcd, Consul, Vault) would cost a network round trip and
 * its secrets on every TAB, and could hang the shell: it gets nothing. Any problem, also a bad --store or
 * --config, prints nothing and exits 0: a completion never shows an error.
 */
export const certificateNames: Command = async ({ global, reporter, signal }) => {
  let names: string[] = [];
  try {
    names = await readNames(await buildContext(global, {}, reporter, signal));
  } catch {
    names = [];
  }
  reporter.result({ ok: true, names }, () => names, { always: true });
  return 0;
};

async function readNames(ctx: Context): Promise<string[]> {
  if (ctx.storeIsShared() || !ctx.storeMayHoldData()) return [];
  const parsed = parseStoreUrl(ctx.storeUrl);
  if (parsed.kind !== 'sqlite') return [];
  const { SqliteStore } = await import('../../store/sqlite.js');
  const store: Store = await SqliteStore.openReadOnly(parsed.path, { busyTimeoutMs: BUSY_TIMEOUT_MS });
  try {
    return await namesIn(store);
  } finally {
    await store.close();
  }
}
