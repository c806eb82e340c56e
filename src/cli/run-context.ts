import { resolve } from 'node:path';
import { abortableSleep } from '../acme/polling.js';
import { SolverPool } from '../challenge/solver-pool.js';
import { secretEnvironmentNames } from '../config/settings.js';
import type { RenewalSettings } from '../core/certificate-record.js';
import type { ProgressListener } from '../domain/events.js';
import type { IssueRequest } from '../core/issue-request.js';
import { runRenewals } from '../core/renewal-run.js';
import type { RunOptions, RunSummary } from '../core/renewal-run.js';
import { describeHookFailure, runHook } from '../deploy/hooks.js';
import { readPkcs12Password } from '../deploy/formats.js';
import type { Store } from '../store/store.js';
import { caConnector } from './ca-connector.js';
import type { Context } from './context.js';
import type { WebrootProber } from '../core/doctor/webroot-served.js';

/** Runs issue/renew requests with everything the edge provides: CA connections, solvers, hooks, timers. */
export async function executeRun(ctx: Context, store: Store, requests: IssueRequest[], options: RunOptions, output: { labelProgress: boolean }, probeWebroot: WebrootProber | null): Promise<RunSummary> {
  // A run over several certificates prefixes each line with the certificate's name, so that logs say whose it is.
  const label = (certificate: string | undefined, message: string): string => (output.labelProgress && certificate ? `${certificate}: ${message}` : message);
  const progress: ProgressListener = (event) => ctx.reporter.progress({ ...event, message: label(event.certificate, event.message) });
  const summary = await runRenewals(requests, options, {
    store,
    connect: caConnector(ctx),
    solvers: new SolverPool(store),
    progress,
    orderTimeoutMs: ctx.settings.orderTimeout * 1000,
    pkcs12Password: (settings: RenewalSettings) => readPkcs12Password({ passwordFile: settings.pkcs12PasswordFile, env: process.env }),
    defaultExportDir: resolve(ctx.exportDir),
    runHook: async (request) => {
      const certificate = request.env.ACMECTL_CERT_NAME; // deploy hooks belong to one certificate
      const id = `${request.kind}:${request.command}`;
      progress({ step: 'hooks', phase: 'start', id, certificate, message: `running ${request.kind} hook: ${request.command}` });
      // A hook is the user's command: whatever it runs need not see acmectl's secrets (docs/cli.md#hook-environment).
      const outcome = await runHook({ ...request, withheldEnv: secretEnvironmentNames() });
      progress({ step: 'hooks', phase: outcome.ok ? 'done' : 'failed', id, certificate, message: outcome.ok ? `${request.kind} hook done: ${request.command}` : describeHookFailure(outcome) });
      return outcome;
    },
    sleep: abortableSleep,
    signal: ctx.signal,
    ...(probeWebroot ? { probeWebroot } : {}),
  });
  return summary;
}
