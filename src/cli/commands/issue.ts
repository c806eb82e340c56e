import { resolve } from 'node:path';
import { describeOffer } from '../../acme/ca-offer.js';
import { CaClient } from '../../acme/client.js';
import { resolveCaDirectory } from '../../acme/directory-presets.js';
import type { FlagValues } from '../../config/resolve.js';
import type { ChallengeMethod } from '../../domain/choices.js';
import { unusableAccountError } from '../../core/account-lifecycle.js';
import { findAccount } from '../../core/accounts.js';
import { findCertificate } from '../../core/certificate-list.js';
import { checkCertificateName, defaultCertificateName } from '../../core/certificate-record.js';
import type { CertificateRecord, RenewalSettings } from '../../core/certificate-record.js';
import { UsageError } from '../../domain/errors.js';
import { identifierChanges, parseIdentifiers } from '../../domain/identifiers.js';
import type { Identifier } from '../../domain/identifiers.js';
import { orderDirectory } from '../../core/order-directory.js';
import { daysLeft } from '../../core/renewal-window.js';
import type { RunItemResult, RunSummary } from '../../core/renewal-run.js';
import { prepareExportDirectory } from '../../deploy/export-directory.js';
import { parseExportFormats, readPkcs12Password } from '../../deploy/formats.js';
import type { Command } from '../command.js';
import { buildContext, settingSourceLabel } from '../context.js';
import type { Context } from '../context.js';
import { parseKeyMode, resolveGroup } from '../../deploy/key-access.js';
import { checkDirectory, checkEab, checkPathText, checkEmail, checkListenAddresses, checkPreferredChain, NO_EMAIL_WARNING } from '../inputs.js';
import type { Reporter } from '../reporter.js';
import { reportHookFailures } from '../hook-report.js';
import { eabSource } from '../eab-source.js';
import { executeRun } from '../run-context.js';
import { openRunStore } from '../run-store.js';
import { webrootProber } from '../webroot-prober.js';

export interface IssueOptions extends FlagValues {
  name?: string;
  standalone?: boolean;
  force?: boolean;
  dryRun?: boolean;
  runDeployHooks?: boolean;
  format?: string[];
  passwordFile?: string;
  /** False with --no-preflight. */
  preflight?: boolean;
}

export const issue: Command<IssueOptions> = async ({ args, options, global, reporter, signal }) => {
  // Every check of the input comes first: nothing is sent or written before it passes (exit 2).
  const identifiers = parseIdentifiers(args);
  const name = checkCertificateName(options.name ?? defaultCertificateName(identifiers));
  const { name: _name, standalone, force, dryRun, runDeployHooks, format, passwordFile, preflight, ...settingFlags } = options;
  const probeWebroot = preflight === false ? null : webrootProber(signal);
  const ctx = await buildContext(global, settingFlags, reporter, signal);
  const { settings } = ctx;
  // --standalone on the command line outranks a webroot from the environment or the config file.
  const webrootGiven = standalone === true && ctx.sources.webroot !== 'flag' ? null : settings.webroot;
  const challenge = chooseChallenge(standalone === true, ctx.sources.challenge !== 'default' ? settings.challenge : null, webrootGiven, ctx.storeIsShared());
  const webroot = challenge === 'webroot' ? checkDirectory(settings.webroot!, '--webroot') : null;
  const httpAddresses = checkListenAddresses(settings.httpAddress);
  const email = checkEmail(settings.email);
  const eab = checkEab(settings.eabKid, settings.eabHmacKey);
  const preferredChain = checkPreferredChain(settings.preferredChain);
  const keyMode = settings.keyMode === null ? null : parseKeyMode(settings.keyMode).toString(8).padStart(4, '0');
  // A group that does not exist here is refused now (exit 2), not found when the files are written.
  if (settings.keyGroup !== null) await resolveGroup(settings.keyGroup);
  const directory = resolveCaDirectory(settings.server);
  const fetchEab = eab ? undefined : eabSource(ctx, directory, email);
  const formats = parseExportFormats(format ?? []);
  const pkcs12PasswordFile = passwordFile === undefined ? null : resolve(passwordFile);
  if (formats.includes('pkcs12')) readPkcs12Password({ passwordFile: pkcs12PasswordFile, env: process.env });
  const caBundlePem = ctx.caBundlePem() ?? null;
  const renewal: RenewalSettings = {
    server: directory.url,
    challenge,
    httpPort: settings.httpPort,
    httpAddress: httpAddresses.length ? httpAddresses.join(',') : null,
    webroot,
    // Stored only when given on the command line; otherwise each host uses its own (fleets).
    out: ctx.sources.out === 'flag' ? resolve(ctx.exportDir) : null,
    keyType: settings.keyType,
    email,
    hooks: { pre: settings.preHook, post: settings.postHook, deploy: settings.deployHook, failure: settings.failureHook },
    formats,
    pkcs12PasswordFile,
    // Kept for renewals, revocation and other hosts; without --ca-bundle, the one stored for this CA is used.
    caBundlePem,
    profile: checkProfileName(settings.profile),
    preferredChain,
    keyGroup: settings.keyGroup,
    keyMode,
  };
  const orderFrom = orderDirectory(directory.url, dryRun === true);

  // What the store holds for this name and this CA decides the last checks, still before anything is sent.
  const storeHolds = ctx.storeMayHoldData();
  const existing = storeHolds ? await findCertificate(await ctx.openStore(), name) : null;
  const expandedWith = existing ? checkNameChange(existing, identifiers, force === true) : [];
  const account = storeHolds ? await findAccount(await ctx.openStore(), orderFrom, email) : null;
  const hasAccount = account !== null;
  // A deactivated account says so, and how to register a new one, before anything is sent.
  const unusable = account ? unusableAccountError(account) : null;
  if (unusable) throw unusable;
  if (!hasAccount && !settings.agreeTos) {
    throw new UsageError(`no ACME account for ${orderFrom} yet`, {
      hint: 'add --agree-tos and --email you@example.com to register one, or run acmectl account register first',
    });
  }

  if (!dryRun) await prepareExportDirectory(checkPathText(ctx.exportDir, settingSourceLabel(ctx, 'out', 'the export directory')), settingSourceLabel(ctx, 'out', 'the export directory'));
  // The profile is checked against what the CA offers before an order is spent on it.
  if (renewal.profile !== null) await checkProfileOffered(ctx, orderFrom, renewal.profile, caBundlePem ?? existing?.settings.caBundlePem ?? null);

  const store = await openRunStore(ctx, dryRun === true);
  if (dryRun) reporter.info(`dry run: ordering from ${orderFrom}; nothing will be stored or written${runDeployHooks ? '' : ', no hook will run'}`);
  if (!hasAccount && email === null) reporter.warn(NO_EMAIL_WARNING);
  if (expandedWith.length > 0) {
    reporter.info(`expanding ${name} with ${namesOf(expandedWith)}: the new certificate covers ${namesOf(identifiers)}`);
  }
  try {
    const summary = await executeRun(
      ctx,
      store,
      [{ name, identifiers, settings: renewal, force: force === true, account: { email, agreeTos: settings.agreeTos, eab, ...(fetchEab ? { fetchEab } : {}) }, orderFrom, dryRun: dryRun === true }],
      {
        concurrency: 1,
        hooks: { pre: null, post: null, deploy: null, failure: null },
        runHooks: !dryRun || runDeployHooks === true,
        hookTimeoutMs: settings.hookTimeout * 1000,
        delayBeforeFirstOrderMs: 0,
      },
      { labelProgress: false },
      probeWebroot,
    );
    return report(summary, reporter, dryRun === true, expandedWith);
  } finally {
    await store.close();
  }
};

/**
 * A request for other names than the stored certificate has: adding names is an expansion (returned, to be
 * said); dropping names is refused unless --force, so that `issue a.example` never silently shrinks a
 * certificate for a.example and b.example.
 */
function checkNameChange(existing: CertificateRecord, requested: Identifier[], force: boolean): Identifier[] {
  const { added, removed } = identifierChanges(existing.identifiers, requested);
  if (removed.length > 0 && !force) {
    throw new UsageError(`the certificate ${existing.name} covers ${namesOf(existing.identifiers)}; this request would drop ${namesOf(removed)}`, {
      hint: [
        `to replace it with ${namesOf(requested)} only, add --force;`,
        `to keep every name, list them all: acmectl issue ${namesOf([...existing.identifiers, ...added], ' ')};`,
        `to get a separate certificate, add --name ANOTHER_NAME`,
      ].join(' '),
    });
  }
  return added;
}

/** A profile name as the CA would spell it; anything else is refused before anything is sent. */
function checkProfileName(profile: string | null): string | null {
  if (profile !== null && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(profile)) {
    throw new UsageError(`--profile ${JSON.stringify(profile)} is not a profile name`, { hint: 'acmectl ca lists the profiles your CA offers' });
  }
  return profile;
}

async function checkProfileOffered(ctx: Context, directoryUrl: string, profile: string, caBundlePem: string | null): Promise<void> {
  const trusted = ctx.caBundlePem() ?? caBundlePem;
  const directory = await CaClient.readDirectory({ directoryUrl, requestTimeoutMs: ctx.settings.requestTimeout * 1000, signal: ctx.signal, ...(trusted ? { caBundlePem: trusted } : {}) });
  const offered = describeOffer(directoryUrl, null, directory).profiles;
  const names = Object.keys(offered);
  if (names.length === 0) {
    throw new UsageError(`the CA at ${directoryUrl} offers no certificate profiles, so --profile ${profile} cannot be honoured`, { hint: 'leave out --profile to get its default certificate' });
  }
  if (!(profile in offered)) {
    throw new UsageError(`the CA at ${directoryUrl} offers no profile "${profile}"`, {
      hint: `it offers: ${names.map((name) => (offered[name] ? `${name} (${offered[name]})` : name)).join(', ')}`,
    });
  }
}

function namesOf(identifiers: readonly Identifier[], separator = ', '): string {
  return identifiers.map((i) => i.value).join(separator);
}

function chooseChallenge(standalone: boolean, explicit: ChallengeMethod | null, webroot: string | null, sharedStore: boolean): ChallengeMethod {
  if (standalone && webroot !== null) throw new UsageError('--standalone and --webroot exclude each other: choose one');
  if (standalone && explicit !== null && explicit !== 'standalone') throw new UsageError(`--standalone contradicts --challenge ${explicit}`);
  const method = explicit ?? (standalone ? 'standalone' : webroot !== null ? 'webroot' : 'standalone');
  if (method === 'webroot' && webroot === null) throw new UsageError('--challenge webroot needs --webroot DIR');
  if (method === 'standalone' && webroot !== null) throw new UsageError('--webroot contradicts --challenge standalone');
  if (method === 'store' && webroot !== null) throw new UsageError('--webroot contradicts --challenge store');
  if (method === 'store' && !sharedStore) {
    throw new UsageError('--challenge store needs a shared store (--store redis://, etcd://, consul:// or vault://) that acmectl serve answers from');
  }
  return method;
}

/** Prints the one certificate's outcome; a failed order is rethrown so main() reports it with its exit code. */
function report(summary: RunSummary, reporter: Reporter, dryRun: boolean, expandedWith: Identifier[]): number {
  const item = summary.items[0] as RunItemResult;
  if (item.outcome === 'failed') throw item.error;
  const { record, paths } = item;
  const { current } = record;
  const hookFailures = summary.hooks.filter((h) => !h.ok);
  const warnings = item.outcome === 'issued' ? item.warnings : [];
  for (const warning of warnings) reporter.warn(warning);
  reporter.result(
    {
      ok: hookFailures.length === 0,
      outcome: dryRun && item.outcome === 'issued' ? 'dry-run' : item.outcome,
      name: record.name,
      domains: record.identifiers.map((i) => i.value),
      version: current.version,
      serial: current.serial,
      notBefore: current.notBefore,
      notAfter: current.notAfter,
      ...(expandedWith.length > 0 ? { expandedWith: expandedWith.map((i) => i.value) } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
      ...(item.outcome === 'unchanged' ? { renewalTime: item.renewalTime.toISOString(), filesUpdated: item.filesUpdated } : {}),
      ...(paths ? { files: paths } : {}),
      hooks: summary.hooks,
    },
    () => {
      const c = reporter.colors;
      const until = `${current.notAfter.slice(0, 10)} (${daysLeft(new Date(current.notAfter), new Date())} days)`;
      const lines =
        item.outcome === 'unchanged'
          ? [`certificate ${c.bold(record.name)} is valid until ${until} and not due for renewal before ${item.renewalTime.toISOString().slice(0, 10)}; nothing to do (--force renews now)`]
          : item.outcome === 'renewed-elsewhere'
            ? [`certificate ${c.bold(record.name)} was just renewed by another acmectl process: serial ${current.serial}, valid until ${until}`]
            : dryRun
              ? [`${c.green('✔')} dry run: the CA would issue ${c.bold(record.name)} (test serial ${current.serial}); nothing was stored or written`]
              : [`${c.green('✔')} certificate ${c.bold(record.name)} issued: serial ${current.serial}, valid until ${until}`];
      if (paths && !dryRun) lines.push(`  fullchain: ${paths.fullchain}`, `  privkey:   ${paths.privkey}`);
      return lines;
    },
  );
  reportHookFailures(reporter, summary.hooks);
  return hookFailures.length > 0 ? 1 : 0;
}

