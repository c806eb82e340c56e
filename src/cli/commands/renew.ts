import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import type { FlagValues } from '../../config/resolve.js';
import { forEachCertificate, readCertificate, unknownCertificate } from '../../core/certificate-list.js';
import { idleCertificate } from '../../core/idle-certificate.js';
import type { IdleCertificate } from '../../core/idle-certificate.js';
import { checkCertificateName } from '../../core/certificate-record.js';
import type { CertificateRecord } from '../../core/certificate-record.js';
import { OperationError } from '../../domain/errors.js';
import { fetchRenewalInfo } from '../../acme/ari.js';
import { CaClient } from '../../acme/client.js';
import { abortableSleep } from '../../acme/polling.js';
import { dueReason, orderNeeded } from '../../core/issue.js';
import type { IssueRequest } from '../../core/issue-request.js';
import { orderDirectory } from '../../core/order-directory.js';
import { findHold, HeldBackError, orderSubject, shownTime } from '../../core/rate-limit-memory.js';
import type { Hold } from '../../core/rate-limit-memory.js';
import type { RunSummary } from '../../core/renewal-run.js';
import { refreshRenewalInfo, renewalInfoStale } from '../../core/renewal-info.js';
import type { RenewalInfoNote } from '../../core/renewal-info.js';
import type { Store } from '../../store/store.js';
import type { Context } from '../context.js';
import { writeLastRun } from '../../deploy/last-run.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import type { Reporter } from '../reporter.js';
import { reportHookFailures } from '../hook-report.js';
import { executeRun } from '../run-context.js';
import { openRunStore } from '../run-store.js';
import { webrootProber } from '../webroot-prober.js';

export interface RenewOptions extends FlagValues {
  days?: string;
  force?: boolean;
  dryRun?: boolean;
  runDeployHooks?: boolean;
  randomSleep?: boolean;
  /** False with --no-preflight. */
  preflight?: boolean;
}

/** The first line of a run that waits: a silent wait of minutes looks like a hang to whoever watches the log. */
function waitingLine(ms: number): string {
  return `waiting ${Math.round(ms / 1000)} s before contacting the CA, so that servers renewing from cron do not all arrive at once (--no-random-sleep skips the wait)`;
}

/** Like certbot and lego: cron fleets spread their CA traffic over up to 8 minutes. */
const RANDOM_SLEEP_MAX_MS = 480_000;

/** The random wait: 0 to RANDOM_SLEEP_MAX_MS inclusive, whole milliseconds; `random(n)` draws from 0..n-1. */
export function randomSleepMs(random: (bound: number) => number = randomInt): number {
  return random(RANDOM_SLEEP_MAX_MS + 1);
}

/**
 * Sleep when asked (--random-sleep), or by default when nobody watches: not on a terminal (cron), no
 * certificate named, no --force and no --dry-run. Naming certificates, forcing or testing is what a person
 * does, not cron.
 */
export function wantsRandomSleep(flag: boolean | undefined, run: { interactive: boolean; named: boolean; force: boolean; dryRun: boolean }): boolean {
  return flag ?? (!run.interactive && !run.named && !run.force && !run.dryRun);
}

export const renew: Command<RenewOptions> = async ({ args, options, global, reporter, signal }) => {
  const startedAt = new Date();
  const names = args.map(checkCertificateName);
  const { force, dryRun, runDeployHooks, preflight, ...settingFlags } = options;
  // --days and --[no-]random-sleep are settings: also ACMECTL_DAYS, ACMECTL_NO_RANDOM_SLEEP or the config file.
  const probeWebroot = preflight === false ? null : webrootProber(signal);
  const ctx = await buildContext(global, settingFlags, reporter, signal);
  const days = ctx.settings.days ?? undefined;
  const randomSleep = ctx.settings.randomSleep ?? undefined;
  const caBundlePem = ctx.caBundlePem() ?? null;
  if (!ctx.storeMayHoldData()) {
    if (names.length > 0) throw unknownCertificate(names[0]!);
    reporter.result({ ok: true, dryRun: dryRun === true, renewed: [], notDue: [], heldBack: [], failed: [], hooks: [] }, () => ['no certificates yet: nothing to renew']);
    if (!dryRun) await noteLastRun(ctx.dataDir, { items: [], hooks: [], failed: false }, 0);
    return 0;
  }
  const store = await openRunStore(ctx, dryRun === true);
  try {
    // The CA's renewal window decides unless --days, --force or a dry run makes it moot.
    const askAri = !force && !dryRun && days === undefined;
    // Named certificates must all exist before anything starts (exit 2 for a typo). A run over all of them sets
    // aside, as each record is read, those it has nothing to do for (core/idle-certificate.ts), keeping none of
    // their records: the cron run of a host with thousands of certificates, nearly all of them idle.
    const order = new Map<string, number>();
    const idle: IdleCertificate[] = [];
    let stored: CertificateRecord[] = [];
    if (names.length > 0) {
      stored = await Promise.all(names.map((name) => readCertificate(store, name)));
    } else {
      const exportDir = resolve(ctx.exportDir);
      await forEachCertificate(store, (record) => {
        order.set(record.name, order.size);
        const nothing = askAri ? idleCertificate(record, startedAt, exportDir) : null;
        if (nothing) idle.push(nothing);
        else stored.push(record);
      });
    }
    if (dryRun) reporter.info(`dry run: ordering from the CAs' staging directories where they have one; nothing will be stored or written${runDeployHooks ? '' : ', no hook will run'}`);
    const sleepWanted = wantsRandomSleep(randomSleep, { interactive: process.stderr.isTTY === true, named: names.length > 0, force: force === true, dryRun: dryRun === true });
    // Asking a CA with ARI for windows again is contacting it too: cron fleets spread those requests with the same
    // random wait. (A first question, or the directory read that finds a CA without ARI, does not wait.)
    const waitBeforeAri = askAri && sleepWanted && stored.some((record) => renewalInfoStale(record, startedAt)) ? randomSleepMs() : 0;
    if (waitBeforeAri > 0) {
      reporter.info(waitingLine(waitBeforeAri));
      await abortableSleep(waitBeforeAri, signal);
    }
    const ari = askAri ? await renewalWindows(ctx, store, stored, caBundlePem) : { records: stored, notes: [] };
    const records = ari.records;
    const unstored = new Map(ari.notes.flatMap((n) => (n.outcome === 'fetched' && !n.stored ? [[n.name, n.info] as const] : [])));
    const requests = records.map((record) => {
      const request = renewalRequest(record, { force: force === true, days, dryRun: dryRun === true, startedAt, caBundlePem });
      const info = unstored.get(record.name);
      return info ? { ...request, renewalInfo: info } : request;
    });
    // Due (or forced), and not held back by a CA's rate limit.
    const ahead = await ordersAhead(store, records, requests, startedAt);
    const anyOrder = ahead.some(Boolean);
    const sleepMs = anyOrder && sleepWanted && waitBeforeAri === 0 ? randomSleepMs() : 0;
    if (sleepMs > 0) reporter.info(waitingLine(sleepMs));
    reportRenewalInfo(reporter, [...idle.flatMap((i): RenewalInfoNote[] => (i.renewalInfo ? [{ name: i.name, outcome: 'fresh', info: i.renewalInfo }] : [])), ...ari.notes]);
    // Why each one will be renewed, before the order's progress lines.
    if (!force && !dryRun) requests.forEach((request, index) => ahead[index] && reporter.info(`${request.name}: ${dueReason(records[index]!, request, startedAt)}`));
    const summary = await executeRun(ctx, store, requests, {
      concurrency: ctx.settings.concurrency,
      hooks: { pre: ctx.settings.preHook, post: ctx.settings.postHook, deploy: ctx.settings.deployHook, failure: ctx.settings.failureHook },
      runHooks: !dryRun || runDeployHooks === true,
      hookTimeoutMs: ctx.settings.hookTimeout * 1000,
      delayBeforeFirstOrderMs: sleepMs,
    }, { labelProgress: true }, probeWebroot);
    const exitCode = report(summary, idle, order, reporter, dryRun === true);
    if (!dryRun) await noteLastRun(ctx.dataDir, summary, exitCode, idle.length);
    return exitCode;
  } finally {
    await store.close();
  }
};

/** ARI for each certificate, from the CA that issued it (renewal-info.ts). */
function renewalWindows(ctx: Context, store: Store, records: CertificateRecord[], caBundlePem: string | null) {
  const requestTimeoutMs = ctx.settings.requestTimeout * 1000;
  return refreshRenewalInfo(records, { caBundlePem }, {
    store,
    readDirectory: (directoryUrl, bundle) => CaClient.readDirectory({ directoryUrl, requestTimeoutMs, signal: ctx.signal, ...(bundle ? { caBundlePem: bundle } : {}) }),
    fetch: (renewalInfoUrl, certificatePem, bundle) => fetchRenewalInfo({ renewalInfoUrl, certificatePem, caBundlePem: bundle, requestTimeoutMs, signal: ctx.signal }),
    now: () => new Date(),
    concurrency: ctx.settings.concurrency,
  });
}

function reportRenewalInfo(reporter: Reporter, notes: RenewalInfoNote[]): void {
  for (const note of notes) {
    if (note.outcome === 'failed') {
      const why = note.error instanceof Error ? note.error.message : String(note.error);
      reporter.warn(`${note.name}: could not get the renewal window (ARI) from the CA (${why}); using the lifetime rule`);
    } else if (note.outcome === 'no-ari') {
      reporter.debug(`${note.name}: ${note.server} offers no renewal information (ARI); using the lifetime rule`);
    } else {
      const { info } = note;
      const how = note.outcome === 'fresh' ? `stored, asking again after ${info.retryAfter}` : `asked the CA${note.stored ? '' : ' (not stored: another process was working on it)'}`;
      reporter.debug(`${note.name}: renewal window (ARI) ${info.windowStart} to ${info.windowEnd}, renewing at ${info.renewAt} (${how})`);
    }
  }
}

export interface RenewalRequestOptions {
  force: boolean;
  days: number | undefined;
  dryRun: boolean;
  startedAt?: Date;
  /** A --ca-bundle given to this run: used, and stored, instead of the certificate's own. */
  caBundlePem?: string | null;
}

export function renewalRequest(record: CertificateRecord, options: RenewalRequestOptions): IssueRequest {
  return {
    name: record.name,
    identifiers: record.identifiers,
    settings: { ...record.settings, caBundlePem: options.caBundlePem ?? record.settings.caBundlePem },
    // A dry run exists to test the setup: it simulates every certificate's renewal, due or not (as certbot's).
    force: options.force || options.dryRun,
    ...(options.days === undefined ? {} : { days: options.days }),
    // The terms were agreed when the certificate was first issued; a dry run may need an account at staging.
    account: { email: record.settings.email, agreeTos: options.dryRun, eab: null },
    orderFrom: orderDirectory(record.settings.server, options.dryRun),
    dryRun: options.dryRun,
    ...(options.startedAt ? { startedAt: options.startedAt } : {}),
    storedRecord: record,
  };
}

/**
 * Which certificates will be ordered (and so whether to wait first): those forced, or due and not held back by
 * a CA's rate limit. A run whose only due certificates are held back contacts no CA and does not wait.
 */
async function ordersAhead(store: Store, records: CertificateRecord[], requests: IssueRequest[], now: Date): Promise<boolean[]> {
  const ahead: boolean[] = [];
  for (const [index, request] of requests.entries()) {
    ahead.push(request.force || (orderNeeded(records[index]!, request, now) && !(await findHold(store, orderSubject(request), records[index]!, now))));
  }
  return ahead;
}

/**
 * What this run did, in the data directory, for `acmectl schedule status`. Best effort: the run's own result
 * stands whether or not the note could be written.
 */
async function noteLastRun(dataDir: string, summary: RunSummary, exitCode: number, idle = 0): Promise<void> {
  const count = (outcomes: string[]): number => summary.items.filter((i) => outcomes.includes(i.outcome)).length;
  await writeLastRun(dataDir, { finishedAt: new Date().toISOString(), exitCode, renewed: count(['issued']), failed: count(['failed']), notDue: idle + count(['unchanged', 'renewed-elsewhere']) }).catch(() => undefined);
}

/**
 * The run's result. `idle` are the certificates set aside as they were read (not due, files current); `order`
 * is the store's order of every certificate, which the lines keep.
 */
function report(summary: RunSummary, idle: IdleCertificate[], order: ReadonlyMap<string, number>, reporter: Reporter, dryRun: boolean): number {
  const renewed = summary.items.filter((i) => i.outcome === 'issued');
  const position = (name: string): number => order.get(name) ?? -1;
  const notDue: NotDue[] = [
    ...idle.map((i): NotDue => ({ name: i.name, outcome: 'unchanged', renewalTime: i.renewalTime })),
    ...summary.items.flatMap((i): NotDue[] => (i.outcome === 'unchanged' ? [{ name: i.name, outcome: 'unchanged', renewalTime: i.renewalTime }] : i.outcome === 'renewed-elsewhere' ? [{ name: i.name, outcome: 'renewed-elsewhere' }] : [])),
  ].sort((a, b) => position(a.name) - position(b.name));
  // Held back: due, but the CA asked not to be asked before a time that has not come. Nothing was sent; the run
  // still fails (exit 1), since the certificate is overdue.
  const heldBack = summary.items.flatMap((i) => (i.outcome === 'failed' && i.error instanceof HeldBackError ? [{ name: i.name, hold: i.error.hold }] : []));
  const failed = summary.items.flatMap((i) => (i.outcome === 'failed' && !(i.error instanceof HeldBackError) ? [i] : []));
  const hookFailures = summary.hooks.filter((h) => !h.ok);
  for (const item of renewed) {
    if (item.outcome === 'issued') for (const warning of item.warnings) reporter.warn(`${item.name}: ${warning}`);
  }
  reporter.result(
    {
      ok: !summary.failed,
      dryRun,
      renewed: renewed.map((i) => ({
        name: i.name,
        ...(i.outcome === 'issued' ? { serial: i.record.current.serial, notAfter: i.record.current.notAfter, reason: i.reason, ...(i.warnings.length > 0 ? { warnings: i.warnings } : {}) } : {}),
      })),
      notDue: notDue.map((i) => ({ name: i.name, outcome: i.outcome, ...(i.outcome === 'unchanged' ? { renewalTime: i.renewalTime.toISOString() } : {}) })),
      heldBack: heldBack.map(({ name, hold }) => ({ name, until: hold.until, scope: hold.scope, detail: hold.detail })),
      failed: failed.map((i) => ({ name: i.name, error: i.error instanceof Error ? i.error.message : String(i.error) })),
      hooks: summary.hooks,
    },
    () => [
      ...renewed.map((i) => (i.outcome === 'issued' ? `renewed ${i.name}: serial ${i.record.current.serial}, valid until ${i.record.current.notAfter.slice(0, 10)}${dryRun ? ' (dry run)' : ` (${i.reason})`}` : '')),
      ...notDue.map((i) =>
        i.outcome === 'unchanged' ? `not due ${i.name}: renewal after ${i.renewalTime.toISOString().slice(0, 10)}` : `not due ${i.name}: just renewed by another acmectl process`,
      ),
      `${dryRun ? 'dry run: ' : ''}${renewed.length} renewed, ${notDue.length} not due, ${heldBack.length ? `${heldBack.length} held back, ` : ''}${failed.length} failed${hookFailures.length ? `, ${hookFailures.length} hook(s) failed` : ''}`,
    ],
  );
  // Failures go to stderr in every mode (also -q: cron mails what matters); so do held-back certificates, overdue.
  for (const { name, hold } of heldBack) reporter.error(new OperationError(heldBackLine(name, hold)));
  for (const item of failed) reporter.error(prefixError(item.name, item.error));
  reportHookFailures(reporter, summary.hooks);
  return summary.failed ? 1 : 0;
}

type NotDue = { name: string; outcome: 'unchanged'; renewalTime: Date } | { name: string; outcome: 'renewed-elsewhere' };

/** "a.example: held back by the CA's rate limit until 2026-11-29T14:03:00Z (it said: ...); acmectl will try again after that" */
export function heldBackLine(name: string, hold: Hold): string {
  const limit = hold.scope === 'account' ? "the CA's rate limit on its account" : "the CA's rate limit";
  return `${name}: held back by ${limit} until ${shownTime(hold.until)} (it said: ${hold.detail}); acmectl will try again after that`;
}

function prefixError(name: string, error: unknown): unknown {
  if (error instanceof Error) {
    error.message = `${name}: ${error.message}`;
    return error;
  }
  return new Error(`${name}: ${String(error)}`);
}

