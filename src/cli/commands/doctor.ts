import { dirname, resolve } from 'node:path';
import { CaClient } from '../../acme/client.js';
import { resolveCaDirectory } from '../../acme/directory-presets.js';
import type { FlagValues } from '../../config/resolve.js';
import { checkCertificateName } from '../../core/certificate-record.js';
import { unknownCertificate } from '../../core/certificate-list.js';
import { anyFailed } from '../../core/doctor/check.js';
import type { Check } from '../../core/doctor/check.js';
import { runDoctor } from '../../core/doctor/doctor.js';
import { parseStoreUrl } from '../../store/open.js';
import { redactStoreUrl } from '../../store/url-options.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import { checkListenAddresses } from '../inputs.js';
import type { Reporter } from '../reporter.js';
import { webrootProber } from '../webroot-prober.js';

/** `acmectl doctor [NAME...]`: each check with its verdict and fix; exit 1 when one fails (warnings do not). */
export const doctor: Command<FlagValues> = async ({ args, options, global, reporter, signal }) => {
  const names = args.map(checkCertificateName);
  const probeWebroot = webrootProber(signal);
  const ctx = await buildContext(global, options, reporter, signal);
  const { settings } = ctx;
  const directory = resolveCaDirectory(settings.server);
  const httpAddresses = checkListenAddresses(settings.httpAddress);
  const requestTimeoutMs = settings.requestTimeout * 1000;
  const exists = ctx.storeMayHoldData();
  if (!exists && names.length > 0) throw unknownCertificate(names[0]!);
  const sqlite = exists ? null : parseStoreUrl(ctx.storeUrl);
  try {
    const report = await runDoctor(
      {
        names,
        machine: { server: directory.url, preset: directory.preset, httpPort: settings.httpPort, httpAddresses, hooks: { pre: settings.preHook, post: settings.postHook, deploy: settings.deployHook, failure: settings.failureHook } },
        caBundlePem: ctx.caBundlePem() ?? null,
        defaultExportDir: resolve(ctx.exportDir),
      },
      {
        store: { shown: redactStoreUrl(ctx.storeUrl), exists, directory: sqlite?.kind === 'sqlite' ? dirname(sqlite.path) : null, open: () => ctx.openStore() },
        readDirectory: (server, caBundlePem) => CaClient.readDirectoryDated({ directoryUrl: server, requestTimeoutMs, ...(caBundlePem ? { caBundlePem } : {}) }),
        probeWebroot,
      },
    );
    return printReport(reporter, report.checks, report.cas);
  } finally {
    if (exists) await (await ctx.openStore().catch(() => null))?.close();
  }
};

function printReport(reporter: Reporter, checks: Check[], cas: unknown[]): number {
  const failed = anyFailed(checks);
  const count = (verdict: Check['verdict']): number => checks.filter((c) => c.verdict === verdict).length;
  reporter.result(
    { ok: !failed, checks, cas },
    () => {
      const c = reporter.colors;
      const paint = { ok: c.green, warn: c.yellow, fail: c.red };
      // -q: only what needs attention.
      const shown = reporter.mode === 'quiet' ? checks.filter((check) => check.verdict !== 'ok') : checks;
      return [
        ...shown.flatMap((check) => [
          `${paint[check.verdict](check.verdict.padEnd(4))}  ${check.certificate ? `${c.bold(check.certificate)} ` : ''}${check.name}: ${check.detail}`,
          ...(check.fix ? [`      fix: ${check.fix}`] : []),
        ]),
        ...(reporter.mode === 'quiet' ? [] : [`${count('ok')} ok, ${count('warn')} warning${count('warn') === 1 ? '' : 's'}, ${count('fail')} failed`]),
      ];
    },
    { always: true },
  );
  return failed ? 1 : 0;
}
