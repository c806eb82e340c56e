import type { SolverPool } from '../challenge/solver-pool.js';
import { deployHookEnv, describeHookFailure, failureHookEnv, postHookEnv, uniqueHookCommands } from '../deploy/hooks.js';
import type { HookCommands, HookOutcome, HookRequest } from '../deploy/hooks.js';
import { exportedPaths } from '../deploy/pem-export.js';
import { exportDirectoryOf } from './certificate-record.js';
import type { CertificateRecord } from './certificate-record.js';
import { mapWithConcurrency, slots } from '../domain/concurrency.js';
import type { ProgressListener } from '../domain/events.js';
import { issueCertificate } from './issue.js';
import type { IssueResult } from './issue.js';
import type { CaConnector, IssueRequest } from './issue-request.js';
import type { Store } from '../store/store.js';
import type { RenewalSettings } from './certificate-record.js';
import type { WebrootProber } from './doctor/webroot-served.js';

/** Certificates a run works on at once; at most RunOptions.concurrency of them order at a time. */
const PARALLEL_CERTIFICATES = 16;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What happened to one certificate in a run. */
export type RunItemResult = { name: string } & ({ outcome: 'failed'; error: unknown } | IssueResult);

export interface RunSummary {
  items: RunItemResult[];
  hooks: HookOutcome[];
  /** True when any certificate or hook failed: the run exits 1. */
  failed: boolean;
}

export interface RunOptions {
  concurrency: number;
  /** Hooks given for the whole run (command line, config); each certificate's stored hooks are added. */
  hooks: HookCommands;
  /** False for a dry run unless --run-deploy-hooks. */
  runHooks: boolean;
  hookTimeoutMs: number;
  /** Milliseconds to wait before the first certificate that needs an order (cron fleets spread out). */
  delayBeforeFirstOrderMs: number;
}

export interface RunDependencies {
  store: Store;
  connect: CaConnector;
  solvers: SolverPool;
  progress: ProgressListener;
  orderTimeoutMs: number;
  pkcs12Password: (settings: RenewalSettings) => string;
  /** This host's export directory for certificates stored without --out. */
  defaultExportDir: string;
  runHook: (request: HookRequest) => Promise<HookOutcome>;
  /** Probes each webroot before its order (core/webroot-preflight.ts); absent with --no-preflight. */
  probeWebroot?: WebrootProber;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  now?: () => Date;
}

/**
 * Issues or renews a set of certificates (docs/cli.md#renew, docs/cli.md#hooks): at most `concurrency` orders at once; one failing
 * certificate never stops the others; pre-hooks run once before the first order, each distinct deploy-hook
 * command once per certificate that changed, each distinct post-hook once at the end (also after failures),
 * when any order was attempted. Hook failures are reported and fail the run, never the certificate.
 */
export async function runRenewals(requests: IssueRequest[], options: RunOptions, deps: RunDependencies): Promise<RunSummary> {
  const hooks: HookOutcome[] = [];
  const hookFailures: { name: string; reason: string }[] = [];
  const runHooks = async (kind: HookRequest['kind'], commands: string[], env: Record<string, string>): Promise<HookOutcome[]> => {
    const outcomes: HookOutcome[] = [];
    for (const command of commands) {
      const outcome = await deps.runHook({ kind, command, env, timeoutMs: options.hookTimeoutMs, ...(deps.signal ? { signal: deps.signal } : {}) });
      outcomes.push(outcome);
      hooks.push(outcome);
      // A deploy hook belongs to its certificate; a pre/post hook to the run ("-").
      if (!outcome.ok) hookFailures.push({ name: env.ACMECTL_CERT_NAME ?? '-', reason: describeHookFailure(outcome) });
    }
    return outcomes;
  };

  const attempted = new Set<string>();
  let delay: Promise<void> | undefined;
  let preHooks: Promise<void> | undefined;
  const preHookCommands = uniqueHookCommands([options.hooks.pre, ...requests.map((r) => r.settings.hooks.pre)]);

  // `concurrency` bounds the orders; a certificate with nothing to order (at most its files to write on this
  // host: the first run of a new fleet host writes thousands) takes no order slot, so those go on alongside.
  const orderSlots = slots(options.concurrency);
  // Orders go in the requests' order (the rank), as one at a time did before certificates with nothing to order
  // were let through: two runs over the same certificates then meet on the same one, and one waits.
  const ranks = new Map(requests.map((request, index) => [request, index]));
  const renewOne = async (request: IssueRequest): Promise<RunItemResult> => {
    let releaseOrderSlot: (() => void) | undefined;
    const rank = ranks.get(request) ?? 0;
    try {
      const solver = await deps.solvers.solverFor(request.settings);
      const result = await issueCertificate(request, {
        store: deps.store,
        connect: deps.connect,
        solver,
        progress: deps.progress,
        orderTimeoutMs: deps.orderTimeoutMs,
        pkcs12Password: deps.pkcs12Password,
        defaultExportDir: deps.defaultExportDir,
        ...(deps.signal ? { signal: deps.signal } : {}),
        ...(deps.now ? { now: deps.now } : {}),
        ...(deps.probeWebroot ? { probeWebroot: deps.probeWebroot } : {}),
        beforeLock: async () => {
          releaseOrderSlot = await orderSlots.acquire(rank);
          await (delay ??= options.delayBeforeFirstOrderMs > 0 ? deps.sleep(options.delayBeforeFirstOrderMs, deps.signal) : Promise.resolve());
        },
        beforeOrder: async () => {
          attempted.add(request.name);
          if (options.runHooks) await (preHooks ??= runHooks('pre', preHookCommands, {}).then(() => undefined));
        },
      });
      // Deploy hooks run wherever this host's files changed: a renewal here, or a newer version from the store.
      if (result.outcome === 'issued' || result.filesUpdated) {
        // Hooks (a web server's reload) run no more at once than orders do.
        releaseOrderSlot ??= await orderSlots.acquire(rank);
        await runDeployHooks(request, result.record, result.paths);
      }
      return { name: request.name, ...result };
    } catch (error) {
      return { name: request.name, outcome: 'failed', error };
    } finally {
      releaseOrderSlot?.();
    }
  };

  const runDeployHooks = async (request: IssueRequest, record: CertificateRecord, paths: IssueResult['paths']): Promise<void> => {
    if (!options.runHooks) return;
    const commands = uniqueHookCommands([request.settings.hooks.deploy, options.hooks.deploy]);
    if (commands.length === 0) return;
    const live = paths ?? exportedPaths(exportDirectoryOf(record.settings, deps.defaultExportDir), record.name);
    const env = deployHookEnv({
      name: record.name,
      domains: record.identifiers.map((i) => i.value),
      paths: live,
      serial: record.current.serial,
      notAfter: record.current.notAfter,
    });
    await runHooks('deploy', commands, env);
  };

  const items = await mapWithConcurrency(requests, Math.max(options.concurrency, PARALLEL_CERTIFICATES), renewOne);

  if (attempted.size > 0 && options.runHooks) {
    const postCommands = uniqueHookCommands([options.hooks.post, ...requests.filter((r) => attempted.has(r.name)).map((r) => r.settings.hooks.post)]);
    const renewed = items.filter((i) => i.outcome === 'issued').map((i) => i.name);
    const failed = items.filter((i) => i.outcome === 'failed').map((i) => i.name);
    await runHooks('post', postCommands, postHookEnv(renewed, failed));
  }
  // Once per failed run, so that a failure can page someone (a cron job's mail is easy to miss).
  const failures = [
    ...items.flatMap((i) => (i.outcome === 'failed' ? [{ name: i.name, reason: errorMessage(i.error) }] : [])),
    ...hookFailures,
  ];
  if (failures.length > 0 && options.runHooks) {
    const failedNames = new Set(failures.map((f) => f.name));
    const failureCommands = uniqueHookCommands([options.hooks.failure, ...requests.filter((r) => failedNames.has(r.name)).map((r) => r.settings.hooks.failure)]);
    await runHooks('failure', failureCommands, failureHookEnv(failures));
  }
  await deps.solvers.closeAll();
  return { items, hooks, failed: items.some((i) => i.outcome === 'failed') || hooks.some((h) => !h.ok) };
}
