import { UsageError } from '../../domain/errors.js';
import { copyStore } from '../../core/store-copy.js';
import { openParsedStore, parseStoreUrl } from '../../store/open.js';
import { redactStoreUrl } from '../../store/url-options.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';

export interface StoreCopyOptions {
  from?: string;
  to?: string;
  overwrite?: boolean;
}

/** `acmectl store copy --from URL --to URL`: accounts and certificates move between stores (docs/cli.md#store-copy). */
export const storeCopy: Command<StoreCopyOptions> = async ({ options, global, reporter, signal }) => {
  const ctx = await buildContext(global, {}, reporter, signal);
  const fromUrl = options.from ?? ctx.storeUrl;
  if (!options.to) throw new UsageError('store copy needs --to URL (the store to copy into)');
  const context = { env: process.env, ...(ctx.caBundlePem() ? { caBundlePem: ctx.caBundlePem()! } : {}) };
  // Each URL is parsed (and its secret files read) once; without --from, the context has parsed the store's.
  const fromStore = options.from === undefined ? null : parseStoreUrl(options.from, context);
  const toStore = parseStoreUrl(options.to, context);
  if (fromUrl === options.to) throw new UsageError('--from and --to name the same store');
  const from = await (fromStore ? openParsedStore(fromStore) : ctx.openStore());
  try {
    const to = await openParsedStore(toStore);
    try {
      const report = await copyStore(from, to, { overwrite: options.overwrite === true });
      const what = `${redactStoreUrl(fromUrl)} → ${redactStoreUrl(options.to)}`;
      reporter.result({ ok: report.conflicts.length === 0, ...report }, () => [
        `${what}: ${report.copied.length} copied, ${report.unchanged.length} already there, ${report.conflicts.length} conflicting`,
        ...report.conflicts.map((key) => `  not copied (the destination holds something else; --overwrite replaces it): ${key}`),
      ]);
      return report.conflicts.length === 0 ? 0 : 1;
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
};
