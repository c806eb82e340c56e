import { resolve } from 'node:path';
import { resolveCaDirectory } from '../../acme/directory-presets.js';
import type { Http01Solver } from '../../challenge/solver.js';
import type { FlagValues } from '../../config/resolve.js';
import type { ChallengeMethod } from '../../config/settings.js';
import { findAccount } from '../../core/accounts.js';
import { checkCertificateName, defaultCertificateName } from '../../core/certificate-record.js';
import type { RenewalSettings } from '../../core/certificate-record.js';
import { UsageError } from '../../core/errors.js';
import { parseIdentifiers } from '../../core/identifiers.js';
import { issueCertificate } from '../../core/issue.js';
import type { IssueResult } from '../../core/issue.js';
import { daysLeft } from '../../core/renewal-window.js';
import { caConnector } from '../ca-connector.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import { checkDirectory, checkEab, checkEmail, checkListenAddresses } from '../inputs.js';
import type { Reporter } from '../reporter.js';

export interface IssueOptions extends FlagValues {
  name?: string;
  standalone?: boolean;
  force?: boolean;
}

export const issue: Command<IssueOptions> = async ({ args, options, global, reporter, signal }) => {
  // Every check of the input comes first: nothing is sent or written before it passes (exit 2).
  const identifiers = parseIdentifiers(args);
  const name = checkCertificateName(options.name ?? defaultCertificateName(identifiers));
  const { name: _n, standalone, force, ...settingFlags } = options;
  const ctx = await buildContext(global, settingFlags, reporter, signal);
  const { settings } = ctx;
  // --standalone on the command line outranks a webroot from the environment or the config file.
  const webrootGiven = standalone === true && ctx.sources.webroot !== 'flag' ? null : settings.webroot;
  const challenge = chooseChallenge(standalone === true, ctx.sources.challenge !== 'default' ? settings.challenge : null, webrootGiven);
  const webroot = challenge === 'webroot' ? checkDirectory(settings.webroot!, '--webroot') : null;
  const httpAddresses = checkListenAddresses(settings.httpAddress);
  const email = checkEmail(settings.email);
  const eab = checkEab(settings.eabKid, settings.eabHmacKey);
  const directory = resolveCaDirectory(settings.server);
  const connect = caConnector(ctx, directory.url);
  const renewal: RenewalSettings = {
    server: directory.url,
    challenge,
    httpPort: settings.httpPort,
    httpAddress: httpAddresses.length ? httpAddresses.join(',') : null,
    webroot,
    out: resolve(ctx.exportDir),
    keyType: settings.keyType,
    email,
  };

  if (!settings.agreeTos) {
    // Without --agree-tos an account must exist already; say so before contacting anyone.
    const hasAccount = ctx.storeMayHoldData() && (await findAccount(await ctx.openStore(), directory.url, email)) !== null;
    if (!hasAccount) {
      throw new UsageError(`no ACME account for ${directory.url} yet`, {
        hint: 'add --agree-tos and --email you@example.com to register one, or run acmectl account register first',
      });
    }
  }

  const store = await ctx.openStore();
  try {
    const solver = await createSolver(challenge, webroot, settings.httpPort, httpAddresses);
    reporter.debug(`answering challenges with the ${solver.description}`);
    const result = await issueCertificate(
      { name, identifiers, settings: renewal, force: force === true, account: { email, agreeTos: settings.agreeTos, eab } },
      { store, connect, solver, progress: reporter.progress, orderTimeoutMs: settings.orderTimeout * 1000, signal },
    );
    report(result, reporter);
    return 0;
  } finally {
    await store.close();
  }
};

function chooseChallenge(standalone: boolean, explicit: ChallengeMethod | null, webroot: string | null): ChallengeMethod {
  if (standalone && webroot !== null) throw new UsageError('--standalone and --webroot exclude each other: choose one');
  if (standalone && explicit !== null && explicit !== 'standalone') throw new UsageError(`--standalone contradicts --challenge ${explicit}`);
  const method = explicit ?? (standalone ? 'standalone' : webroot !== null ? 'webroot' : 'standalone');
  if (method === 'webroot' && webroot === null) throw new UsageError('--challenge webroot needs --webroot DIR');
  if (method === 'standalone' && webroot !== null) throw new UsageError('--webroot contradicts --challenge standalone');
  if (method === 'store') {
    throw new UsageError('--challenge store needs a shared store (redis, etcd, consul, vault), which this version does not have yet');
  }
  return method;
}

async function createSolver(method: ChallengeMethod, webroot: string | null, port: number, addresses: string[]): Promise<Http01Solver> {
  if (method === 'webroot') {
    const { WebrootSolver } = await import('../../challenge/webroot.js');
    return new WebrootSolver(webroot!);
  }
  const { StandaloneSolver } = await import('../../challenge/standalone.js');
  return new StandaloneSolver({ port, addresses });
}

function report(result: IssueResult, reporter: Reporter): void {
  const { record, paths } = result;
  const { current } = record;
  const now = new Date();
  reporter.result(
    {
      ok: true,
      outcome: result.outcome,
      name: record.name,
      domains: record.identifiers.map((i) => i.value),
      version: current.version,
      serial: current.serial,
      notBefore: current.notBefore,
      notAfter: current.notAfter,
      ...(result.outcome === 'unchanged' ? { renewalTime: result.renewalTime.toISOString(), reexported: result.reexported } : {}),
      files: { cert: paths.cert, chain: paths.chain, fullchain: paths.fullchain, privkey: paths.privkey },
    },
    () => {
      const c = reporter.colors;
      const until = `${current.notAfter.slice(0, 10)} (${daysLeft(new Date(current.notAfter), now)} days)`;
      const head =
        result.outcome === 'issued'
          ? `${c.green('✔')} certificate ${c.bold(record.name)} issued: serial ${current.serial}, valid until ${until}`
          : `certificate ${c.bold(record.name)} is valid until ${until} and not due for renewal before ${result.renewalTime.toISOString().slice(0, 10)}; nothing to do (--force renews now)`;
      return [head, `  fullchain: ${paths.fullchain}`, `  privkey:   ${paths.privkey}`];
    },
  );
}
