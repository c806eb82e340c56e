import { join, resolve } from 'node:path';
import type { FlagValues } from '../../config/resolve.js';
import { exportDirectoryOf } from '../../core/certificate-record.js';
import { exportedPaths } from '../../deploy/pem-export.js';
import { adoptPlan } from '../../migrate/certbot/adopt.js';
import type { AdoptOutcome } from '../../migrate/certbot/adopt.js';
import { checkCertbotDirectory, planCertbotImport } from '../../migrate/certbot/import-plan.js';
import type { ImportPlan, LineagePlan } from '../../migrate/certbot/import-plan.js';
import type { MappedSettings } from '../../migrate/certbot/renewal-mapping.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import type { Reporter } from '../reporter.js';

export interface ImportCertbotOptions extends FlagValues {
  dryRun?: boolean;
}

export const CERTBOT_DEFAULT_DIRECTORY = '/etc/letsencrypt';

/**
 * `acmectl import certbot [DIR]` (docs/cli.md#import-certbot): adopts certbot's lineages with their history, renewal
 * settings and account. Reads certbot's files, never changes them; a dry run writes nothing at all.
 */
export const importCertbot: Command<ImportCertbotOptions> = async ({ args, options, global, reporter, signal }) => {
  const configDir = resolve(args[0] ?? CERTBOT_DEFAULT_DIRECTORY);
  const { dryRun, ...settingFlags } = options;
  const ctx = await buildContext(global, settingFlags, reporter, signal);
  checkCertbotDirectory(configDir);
  if (ctx.sources.server === 'flag') reporter.warn("--server is not used: each lineage keeps the CA its renewal configuration names");
  const importOptions = { caBundlePem: ctx.caBundlePem() ?? null, out: ctx.sources.out === 'flag' ? resolve(ctx.exportDir) : null, now: new Date() };
  const defaultExportDir = resolve(ctx.exportDir);
  // A dry run never creates a store: without one, nothing is in the way of any lineage.
  const store = dryRun && !ctx.storeMayHoldData() ? null : await ctx.openStore();
  try {
    const plan = await planCertbotImport(configDir, store, importOptions);
    const outcomes = dryRun || !store ? null : await adoptPlan(plan, store, defaultExportDir);
    return report(plan, outcomes, defaultExportDir, reporter);
  } finally {
    await store?.close();
  }
};

/** A lineage as reported: `import` (dry run), `imported`, `failed` or `skipped`, with its mapping and where its files go. */
type ReportedLineage = Omit<LineagePlan, 'action'> & {
  action: 'import' | 'imported' | 'failed' | 'skipped';
  files: { dir: string; fullchain: string; privkey: string } | null;
  certbotFiles: string;
  exportError?: string;
};

function report(plan: ImportPlan, outcomes: AdoptOutcome[] | null, defaultExportDir: string, reporter: Reporter): number {
  const dryRun = outcomes === null;
  const outcomeOf = new Map((outcomes ?? []).map((o) => [o.name, o]));
  const lineages = plan.lineages.map((lineage): ReportedLineage => {
    const outcome = outcomeOf.get(lineage.name);
    const status = lineage.action === 'skip' ? 'skipped' : dryRun ? 'import' : outcome?.outcome === 'failed' ? 'failed' : 'imported';
    const record = plan.writes.records.get(lineage.name);
    const files = record ? exportedPaths(exportDirectoryOf(record.settings, defaultExportDir), lineage.name) : null;
    return {
      ...lineage,
      action: status,
      reason: outcome?.outcome === 'failed' ? outcome.error : lineage.reason,
      files: files && { dir: files.dir, fullchain: files.fullchain, privkey: files.privkey },
      certbotFiles: join(plan.configDir, 'live', lineage.name),
      ...(outcome?.outcome === 'imported' && outcome.exportError ? { exportError: outcome.exportError } : {}),
    };
  });
  const moved = lineages.filter((l) => l.action === 'imported' || l.action === 'import');
  const failed = lineages.filter((l) => l.action === 'failed' || 'exportError' in l);
  const nextSteps = dryRun || moved.length === 0 ? [] : nextStepsFor(moved);
  const count = (action: string) => lineages.filter((l) => l.action === action).length;
  reporter.result(
    {
      ok: failed.length === 0,
      dryRun,
      directory: plan.configDir,
      lineages,
      accounts: plan.accounts.map((a) => ({ ...a, action: a.action === 'present' ? 'present' : dryRun ? 'import' : 'imported' })),
      certbotHookScripts: plan.hookScripts,
      nextSteps,
    },
    () => {
      const lines = [
        dryRun
          ? `dry run: nothing was written. certbot lineages in ${plan.configDir}: ${count('import')} to import, ${count('skipped')} left alone`
          : `certbot lineages in ${plan.configDir}: ${count('imported')} imported, ${count('skipped')} left alone${count('failed') ? `, ${count('failed')} failed` : ''}`,
      ];
      if (plan.lineages.length === 0) lines.push(`  (no renewal/*.conf in ${plan.configDir})`);
      for (const lineage of lineages) lines.push(...lineageLines(lineage, reporter));
      for (const account of plan.accounts) {
        lines.push(`account ${account.url} (${account.directoryUrl}${account.email ? `, ${account.email}` : ''}): ${account.action === 'present' ? 'already in the store' : dryRun ? 'to import' : 'imported'}`);
      }
      for (const script of plan.hookScripts) {
        lines.push(`note: certbot ran ${script.path} for every renewal; acmectl does not: add --${script.kind}-hook ${script.path} to your acmectl renew schedule`);
      }
      if (nextSteps.length > 0) lines.push('next steps:', ...nextSteps.map((step, index) => `  ${index + 1}. ${step}`));
      if (dryRun && count('import') > 0) lines.push('run it again without --dry-run to import');
      return lines;
    },
  );
  return failed.length === 0 ? 0 : 1;
}

function lineageLines(lineage: ReportedLineage, reporter: Reporter): string[] {
  const c = reporter.colors;
  if (lineage.action === 'skipped') return [`  ${c.yellow('–')} ${lineage.name}: left alone: ${lineage.reason}`];
  if (lineage.action === 'failed') return [`  ${c.red('✖')} ${lineage.name}: not imported: ${lineage.reason}`];
  const current = lineage.current!;
  const lines = [
    `  ${c.green('✔')} ${c.bold(lineage.name)}: ${lineage.domains.join(', ')}; version ${current.version} (serial ${current.serial}, valid until ${current.notAfter.slice(0, 10)})` +
      `${lineage.versions.length > 1 ? `, history ${lineage.versions.slice(1).join(', ')}` : ''}`,
    `      renews with: ${describeSettings(lineage.settings!)}`,
    `      account: ${lineage.accountUrl}`,
  ];
  if (lineage.files) lines.push(`      files: ${lineage.files.dir}/ ${lineage.action === 'import' ? '(would be written)' : lineage.exportError ? `not written (${lineage.exportError}): the next acmectl renew writes them` : 'written'}`);
  for (const note of lineage.notes) lines.push(`      note: ${note}`);
  return lines;
}

function describeSettings(settings: MappedSettings): string {
  const how =
    settings.challenge === 'webroot'
      ? `webroot ${settings.webroot}`
      : `standalone on port ${settings.httpPort}${settings.httpAddress ? ` (${settings.httpAddress})` : ''}`;
  const hooks = (['pre', 'post', 'deploy'] as const).flatMap((kind) => (settings.hooks[kind] ? [`${kind} hook ${JSON.stringify(settings.hooks[kind])}`] : []));
  return [how, settings.keyType, `server ${settings.server}`, ...(settings.preferredChain ? [`preferred chain "${settings.preferredChain}"`] : []), ...hooks].join(', ');
}

/** What to do once certbot's lineages are in acmectl's store: switch the services over, stop certbot, schedule renew. */
function nextStepsFor(moved: ReportedLineage[]): string[] {
  return [
    `point your services at acmectl's files instead of certbot's: ${moved.map((l) => `${l.certbotFiles}/ → ${l.files!.dir}/`).join('; ')} (same file names)`,
    "stop certbot's renewals, or both will renew: systemctl disable --now certbot.timer, and remove /etc/cron.d/certbot (or comment out its line)",
    'acmectl renew now renews them: run it twice a day (README, "Renewal from cron"); certbot\'s files stay as they were',
  ];
}
