import type { Server } from 'node:http';
import { bindFailure, listenOn } from '../../challenge/standalone.js';
import { storeResponder } from '../../challenge/store-responder.js';
import type { FlagValues } from '../../config/resolve.js';
import { redactStoreUrl } from '../../store/url-options.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import { checkListenAddresses } from '../inputs.js';

/**
 * `acmectl serve`: a long-running HTTP-01 responder for fleets behind a load balancer. Whichever node the
 * CA's request reaches answers it from the shared store. Logs one line per request; stops cleanly on
 * SIGTERM/SIGINT (exit 0).
 */
export const serve: Command<FlagValues> = async ({ options, global, reporter, signal }) => {
  const ctx = await buildContext(global, options, reporter, signal);
  const addresses = checkListenAddresses(ctx.settings.httpAddress);
  const port = ctx.settings.httpPort;
  const store = await ctx.openStore();
  const servers: Server[] = [];
  try {
    if (!store.shared) reporter.warn(`the ${store.kind} store is not shared between hosts: only tokens published on this host will be answered`);
    const handler = storeResponder(store, (r) => reporter.info(`${new Date().toISOString()} ${r.remote} ${r.method} ${r.path} ${r.status} ${r.ms}ms`));
    const where = addresses.length ? addresses : [undefined];
    try {
      for (const address of where) servers.push(await listenOn(handler, port, address));
    } catch (error) {
      throw bindFailure(error, port, where);
    }
    reporter.info(`answering HTTP-01 challenges from ${redactStoreUrl(ctx.storeUrl)} on port ${port} (${addresses.length ? addresses.join(', ') : 'all addresses'})`);
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    reporter.info('stopping');
    // Nothing for people (the log said it all); with --json the one document a script gets.
    reporter.result({ ok: true, store: redactStoreUrl(ctx.storeUrl), port, addresses }, () => []);
    return 0;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    })));
    await store.close();
  }
};
