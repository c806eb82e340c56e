import { resolveCaDirectory } from '../../acme/directory-presets.js';
import { generatePrivateKey } from '../../acme/keys.js';
import { findAccount, listAccounts, registerAccount } from '../../core/accounts.js';
import type { FlagValues } from '../../config/resolve.js';
import type { CaConnectorOptions } from '../../core/issue.js';
import { caConnector } from '../ca-connector.js';
import { eabSource } from '../eab-source.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import { checkEab, checkEmail, NO_EMAIL_WARNING } from '../inputs.js';
import { formatTable } from '../table.js';
import { UsageError } from '../../core/errors.js';

/** `acmectl account register`: one account per CA directory and email; registering again changes nothing. */
export const accountRegister: Command<FlagValues> = async ({ options, global, reporter, signal }) => {
  const ctx = await buildContext(global, options, reporter, signal);
  const { settings } = ctx;
  const email = checkEmail(settings.email);
  const eab = checkEab(settings.eabKid, settings.eabHmacKey);
  const directory = resolveCaDirectory(settings.server);
  const fetchEab = eab ? undefined : eabSource(ctx, directory, email);
  const connector = caConnector(ctx);
  const connect = (keyPem: string, options: CaConnectorOptions) => connector(directory.url, keyPem, options);
  if (!settings.agreeTos && !ctx.storeMayHoldData()) {
    throw new UsageError(`registering an account with ${directory.url} needs your agreement to its terms of service`, { hint: 'add --agree-tos' });
  }
  const store = await ctx.openStore();
  try {
    const existing = await findAccount(store, directory.url, email);
    if (!existing && email === null) reporter.warn(NO_EMAIL_WARNING);
    const account =
      existing ??
      (await registerAccount(store, { directoryUrl: directory.url, email, agreeTos: settings.agreeTos, eab, caBundlePem: ctx.caBundlePem() ?? null, ...(fetchEab ? { fetchEab } : {}) }, connect, () => generatePrivateKey('ec256'), reporter.progress))
        .account;
    const document = { ok: true, outcome: existing ? 'exists' : 'registered', account: { url: account.url, email: account.email, server: account.directoryUrl, eabKid: account.eabKid } };
    reporter.result(document, () => [
      existing
        ? `an account for ${account.email ?? 'no email'} at ${account.directoryUrl} exists already: ${account.url}`
        : `account ${account.url} registered at ${account.directoryUrl}${account.email ? ` for ${account.email}` : ''}`,
    ]);
    return 0;
  } finally {
    await store.close();
  }
};

export const accountList: Command = async ({ global, reporter, signal }) => {
  const ctx = await buildContext(global, {}, reporter, signal);
  let accounts: Awaited<ReturnType<typeof listAccounts>> = [];
  if (ctx.storeMayHoldData()) {
    const store = await ctx.openStore();
    try {
      accounts = await listAccounts(store);
    } finally {
      await store.close();
    }
  }
  const rows = accounts.map((a) => ({ server: a.directoryUrl, email: a.email, url: a.url, eabKid: a.eabKid, createdAt: a.createdAt }));
  reporter.result(
    { ok: true, accounts: rows },
    () => (rows.length === 0 ? ['no accounts yet'] : formatTable(['SERVER', 'EMAIL', 'ACCOUNT URL'], rows.map((r) => [r.server, r.email ?? '-', r.url]))),
    { always: true },
  );
  return 0;
};
