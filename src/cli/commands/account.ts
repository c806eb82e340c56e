import { resolveCaDirectory } from '../../acme/directory-presets.js';
import { generatePrivateKey } from '../../pki/keys.js';
import { describeProblem } from '../../acme/problem.js';
import type { FlagValues } from '../../config/resolve.js';
import { deactivateAccount, keyTypeOf, noAccountError, rolloverAccountKey, showAccount, updateAccountContact } from '../../core/account-lifecycle.js';
import type { AccountSelector, PendingKeyOutcome } from '../../core/account-lifecycle.js';
import { accountKey, findAccountEntry, listAccounts, readAccountEntry, registerAccount } from '../../core/accounts.js';
import type { AccountRecord } from '../../core/accounts.js';
import { UsageError } from '../../domain/errors.js';
import { visibleText } from '../../domain/visible-text.js';
import type { CaConnectorOptions } from '../../core/issue-request.js';
import type { Store } from '../../store/store.js';
import { caConnector } from '../ca-connector.js';
import { eabSource } from '../eab-source.js';
import type { Command } from '../command.js';
import { askYesNo, canAsk } from '../confirm.js';
import { buildContext } from '../context.js';
import type { Context, GlobalOptions } from '../context.js';
import { checkEab, checkEmail, NO_EMAIL_WARNING } from '../inputs.js';
import type { Reporter } from '../reporter.js';
import { formatTable } from '../table.js';

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
    // With an email, exactly that account (not one whose email was changed away from it); without, the CA's only one.
    const key = accountKey(directory.url, email);
    const stored = email ? await readAccountEntry(store, key) : await findAccountEntry(store, directory.url, null);
    const existing = stored && stored.record.status !== 'deactivated' ? stored.record : null;
    // A deactivated account under the same key is replaced by the new registration (and kept as its history).
    const replacing = stored && !existing && stored.key === key ? stored : undefined;
    if (!existing && email === null) reporter.warn(NO_EMAIL_WARNING);
    const account =
      existing ??
      (
        await registerAccount(
          store,
          { directoryUrl: directory.url, email, agreeTos: settings.agreeTos, eab, caBundlePem: ctx.caBundlePem() ?? null, ...(replacing ? { replacing } : {}), ...(fetchEab ? { fetchEab } : {}) },
          connect,
          () => generatePrivateKey('ec256'),
          reporter.progress,
        )
      ).account;
    const document = { ok: true, outcome: existing ? 'exists' : 'registered', account: { url: account.url, email: account.email, server: account.directoryUrl, eabKid: account.eabKid }, ...(replacing ? { replaced: replacing.record.url } : {}) };
    reporter.result(document, () => [
      existing
        ? `an account for ${account.email ?? 'no email'} at ${account.directoryUrl} exists already: ${account.url}`
        : `account ${account.url} registered at ${account.directoryUrl}${account.email ? ` for ${account.email}` : ''}${replacing ? ` (replacing the deactivated account ${replacing.record.url})` : ''}`,
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
  const rows = accounts.map((a) => ({ server: a.directoryUrl, email: a.email, url: a.url, status: storeStatusOf(a), eabKid: a.eabKid, createdAt: a.createdAt }));
  reporter.result(
    { ok: true, accounts: rows },
    () => (rows.length === 0 ? ['no accounts yet'] : formatTable(['SERVER', 'EMAIL', 'ACCOUNT URL', 'STATUS'], rows.map((r) => [r.server, r.email ?? '-', r.url, r.status]))),
    { always: true },
  );
  return 0;
};

/** The CA (--server) and the account (--email; without it, the CA's only account) an account command acts on. */
async function selectAccount(input: { global: GlobalOptions; flags: FlagValues; reporter: Reporter; signal: AbortSignal }): Promise<{ ctx: Context; selector: AccountSelector }> {
  const ctx = await buildContext(input.global, input.flags, input.reporter, input.signal);
  const email = checkEmail(ctx.settings.email);
  return { ctx, selector: { directoryUrl: resolveCaDirectory(ctx.settings.server).url, email } };
}

/** Opens the store for an account command; without a store there is no account (and none is created). */
async function openAccountStore(ctx: Context, selector: AccountSelector): Promise<Store> {
  if (!ctx.storeMayHoldData()) throw noAccountError(selector);
  return ctx.openStore();
}

/** What the store says of the account's state (the CA's own status is asked separately). */
function storeStatusOf(record: AccountRecord): 'valid' | 'deactivated' | 'deactivation-unconfirmed' {
  return record.status === 'deactivated' ? 'deactivated' : record.deactivationRequestedAt ? 'deactivation-unconfirmed' : 'valid';
}

/** `acmectl account show`: the account and its status as the CA reports it now; never the key. */
export const accountShow: Command<FlagValues> = async ({ options, global, reporter, signal }) => {
  const { ctx, selector } = await selectAccount({ global, flags: options, reporter, signal });
  const store = await openAccountStore(ctx, selector);
  try {
    const view = await showAccount(store, selector, caConnector(ctx));
    reportSettledKey(reporter, view.pendingKey);
    const r = view.record;
    const fromCa = 'account' in view.ca ? view.ca.account : null;
    const problem = 'problem' in view.ca ? view.ca.problem : null;
    const storeStatus = storeStatusOf(r);
    const document = {
      ok: true,
      account: {
        url: r.url,
        server: r.directoryUrl,
        email: r.email,
        status: fromCa?.status ?? null,
        contact: fromCa ? (fromCa.contact ?? []) : null,
        ...(problem ? { caProblem: problem } : {}),
        storeStatus,
        ...(r.deactivatedAt ? { deactivatedAt: r.deactivatedAt } : {}),
        ...(r.pendingKeySince ? { keyChangeInterruptedAt: r.pendingKeySince } : {}),
        keyType: view.keyType,
        keyThumbprint: view.keyThumbprint,
        ...(r.keyChangedAt ? { keyChangedAt: r.keyChangedAt } : {}),
        eabKid: r.eabKid,
        caBundle: Boolean(r.caBundlePem),
        createdAt: r.createdAt,
        ...(r.formerEmails?.length ? { formerEmails: r.formerEmails } : {}),
      },
    };
    reporter.result(
      document,
      () => {
        const rows: [string, string][] = [
          ['account', r.url],
          ['CA', r.directoryUrl],
          ['status', fromCa ? `${fromCa.status} (as the CA reports it now)` : `refused by the CA: ${describeProblem(problem!)}`],
          ['contact', fromCa ? (fromCa.contact?.length ? fromCa.contact.join(', ') : 'none') : 'unknown'],
          ['email', `${r.email ?? 'none'} (in the store)`],
          ['in the store', storeStatus === 'deactivated' ? `deactivated on ${r.deactivatedAt?.slice(0, 10)}` : storeStatus === 'deactivation-unconfirmed' ? `deactivation asked on ${r.deactivationRequestedAt?.slice(0, 10)}, not confirmed (run acmectl account deactivate --yes again)` : 'valid'],
          ['key', `${view.keyType}, thumbprint ${view.keyThumbprint}${r.keyChangedAt ? ` (since ${r.keyChangedAt.slice(0, 10)})` : ''}`],
          ['EAB key id', r.eabKid ?? '-'],
          ['CA bundle', r.caBundlePem ? 'stored with the account' : 'none (public roots)'],
          ['created', r.createdAt],
        ];
        if (r.pendingKeyPem) rows.push(['key change', `interrupted on ${r.pendingKeySince?.slice(0, 10)}; the CA accepted neither key, both are kept (the next command asks again)`]);
        if (r.formerEmails?.length) rows.push(['former emails', r.formerEmails.map((e) => e ?? 'none').join(', ')]);
        return rows.map(([label, value]) => `${label.padEnd(14)}${value}`);
      },
      { always: true },
    );
    return 0;
  } finally {
    await store.close();
  }
};

export interface AccountUpdateOptions extends FlagValues {
  /** The new email; false for --no-email (remove the contact). */
  email?: string | boolean;
  currentEmail?: string;
}

/** `acmectl account update --email NEW [--current-email OLD]`: the contact at the CA, then in the store. */
export const accountUpdate: Command<AccountUpdateOptions> = async ({ options, global, reporter, signal }) => {
  const { email: given, currentEmail, ...flags } = options;
  // The new contact comes from this command line only: an email from the environment or a config file
  // names the account to use elsewhere, never a change to make.
  if (given === undefined || given === true) throw new UsageError('say the new contact: --email NEW, or --no-email to remove it');
  const newEmail = given === false ? null : checkEmail(given);
  const ctx = await buildContext(global, flags, reporter, signal);
  const selector: AccountSelector = { directoryUrl: resolveCaDirectory(ctx.settings.server).url, email: currentEmail === undefined ? null : checkCurrentEmail(currentEmail) };
  const store = await openAccountStore(ctx, selector);
  try {
    const update = await updateAccountContact(store, selector, newEmail, caConnector(ctx), reporter.progress);
    const { before, after } = update;
    if (update.oldEntryLeft) {
      reporter.warn(`the store entry under ${before.email ?? 'no email'} could not be removed (${update.oldEntryLeft}); the next acmectl account command removes it`);
    }
    if (newEmail === null) reporter.warn(NO_CONTACT_WARNING);
    reporter.result(
      {
        ok: true,
        account: { url: after.url, server: after.directoryUrl, email: after.email, previousEmail: before.email, contact: update.ca.contact ?? [] },
      },
      () => [
        `account ${after.url} at ${after.directoryUrl}: contact ${before.email ?? 'none'} -> ${after.email ?? 'none'}` +
          (before.email !== after.email && before.email !== null ? `; certificates issued with ${before.email} keep using it` : ''),
      ],
    );
    return 0;
  } finally {
    await store.close();
  }
};

const NO_CONTACT_WARNING =
  'the account has no contact now: the CA has no way to reach you about it; watch expiry with acmectl list --expiring 14 or your monitoring';

function checkCurrentEmail(email: string): string {
  try {
    return checkEmail(email)!;
  } catch {
    throw new UsageError(`--current-email "${visibleText(email, 200)}" is not an email address`);
  }
}

/** `acmectl account rollover`: a new key for the account (RFC 8555 §7.3.5). */
export const accountRollover: Command<FlagValues> = async ({ options, global, reporter, signal }) => {
  const { ctx, selector } = await selectAccount({ global, flags: options, reporter, signal });
  const store = await openAccountStore(ctx, selector);
  try {
    const result = await rolloverAccountKey(store, selector, caConnector(ctx), () => generatePrivateKey('ec256'), reporter.progress);
    const { record } = result;
    reporter.result(
      {
        ok: true,
        outcome: result.outcome,
        account: { url: record.url, server: record.directoryUrl, email: record.email, keyType: keyTypeOf(record.keyPem), keyThumbprint: result.newThumbprint, ...(result.outcome === 'rolled-over' ? { previousKeyThumbprint: result.oldThumbprint } : {}) },
      },
      () =>
        result.outcome === 'rolled-over'
          ? [`account ${record.url} now uses a new key (${keyTypeOf(record.keyPem)}, thumbprint ${result.newThumbprint}); the CA no longer accepts the old one (${result.oldThumbprint})`]
          : [`an interrupted key change had already switched account ${record.url} to its new key (thumbprint ${result.newThumbprint}); the store now uses it, and no further change was made`],
    );
    return 0;
  } finally {
    await store.close();
  }
};

export interface AccountDeactivateOptions extends FlagValues {
  yes?: boolean;
}

/** `acmectl account deactivate`: for good, at the CA (RFC 8555 §7.3.6); the store keeps the record as history. */
export const accountDeactivate: Command<AccountDeactivateOptions> = async ({ options, global, reporter, signal }) => {
  const { yes, ...flags } = options;
  const { ctx, selector } = await selectAccount({ global, flags, reporter, signal });
  if (yes !== true && !canAsk()) {
    throw new UsageError('deactivating an ACME account cannot be undone, and there is no terminal to ask for confirmation on', { hint: 'add --yes to confirm' });
  }
  const store = await openAccountStore(ctx, selector);
  try {
    const confirm = async (record: AccountRecord): Promise<boolean> =>
      yes === true ||
      askYesNo(
        `Deactivate the ACME account ${record.url}${record.email ? ` (${record.email})` : ''} at ${record.directoryUrl}? The CA will refuse it for good: no orders, renewals or revocations with it.`,
        signal,
      );
    const result = await deactivateAccount(store, selector, caConnector(ctx), confirm, reporter.progress);
    const { record } = result;
    const account = { url: record.url, server: record.directoryUrl, email: record.email, ...(record.deactivatedAt ? { deactivatedAt: record.deactivatedAt } : {}) };
    if (result.outcome === 'declined') {
      reporter.result({ ok: false, outcome: 'declined', account }, () => [`not confirmed: account ${record.url} was not deactivated`]);
      return 1;
    }
    const register = `acmectl account register --server ${record.directoryUrl}${record.email ? ` --email ${record.email}` : ''} --agree-tos`;
    reporter.result({ ok: true, outcome: result.outcome, account, ...(result.outcome === 'deactivated' ? { status: result.caStatus } : {}) }, () => [
      result.outcome === 'deactivated'
        ? `account ${record.url} deactivated at ${record.directoryUrl} (the CA reports it ${result.caStatus}); the store keeps it for history, and issue and renew no longer use it`
        : `account ${record.url} was already deactivated on ${record.deactivatedAt?.slice(0, 10)}`,
      `to get certificates from this CA again, register a new account: ${register}`,
    ]);
    return 0;
  } finally {
    await store.close();
  }
};

function reportSettledKey(reporter: Reporter, outcome: PendingKeyOutcome): void {
  if (outcome === 'new-key-adopted') reporter.info('an interrupted key change had switched the account to its new key at the CA: the store now uses the new key');
  if (outcome === 'old-key-kept') reporter.info('an interrupted key change had not reached the CA: the account keeps its key, and the unused new one was dropped');
}
