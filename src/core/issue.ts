import type { CaClient, ExternalAccountBinding } from '../acme/client.js';
import { certId } from '../acme/ari.js';
import { generatePrivateKey } from '../pki/keys.js';
import { obtainCertificate } from '../acme/obtain-certificate.js';
import type { Http01Solver } from '../domain/http01.js';
import { deployedAtLeast, readDeployedVersion, recordDeployedVersion } from '../deploy/deployed-version.js';
import { prepareExportDirectory } from '../deploy/export-directory.js';
import { exportedPaths, readExportedVersion } from '../deploy/pem-export.js';
import type { ExportedPaths } from '../deploy/pem-export.js';
import type { Entry, Store } from '../store/store.js';
import { usableAccount } from './account-lifecycle.js';
import { findAccountEntry, registerAccount } from './accounts.js';
import { certificateKey, decodeRecord, encodeRecord, exportDirectoryOf, HISTORY_LIMIT, readCertificateFacts, splitChain } from './certificate-record.js';
import type { CertificateRecord, CertificateVersion, RenewalSettings, StoredRenewalInfo } from './certificate-record.js';
import { AbortedError, abortedError, OperationError } from '../domain/errors.js';
import type { ProgressListener } from '../domain/events.js';
import { exportVersion } from './export-version.js';
import { sameIdentifiers } from '../domain/identifiers.js';
import type { Identifier } from '../domain/identifiers.js';
import { forgetRefusals, orderSubject, refuseWhileHeldBack, rememberRefusal } from './rate-limit-memory.js';
import { recordDecision } from './renewal-decision.js';
import { noteFailedAttempt } from './attempt-record.js';
import type { CaConnector, IssueRequest } from './issue-request.js';
import type { WebrootProber } from './doctor/webroot-served.js';
import { preflightWebroot } from './webroot-preflight.js';

export interface IssueDependencies {
  store: Store;
  connect: CaConnector;
  solver: Http01Solver;
  progress: ProgressListener;
  orderTimeoutMs: number;
  /** Read when a pkcs12 export is due. */
  pkcs12Password: (settings: RenewalSettings) => string;
  /** This host's export directory for certificates stored without --out. */
  defaultExportDir: string;
  /** Runs before the lock is taken, only when an order is needed (the random delay of cron runs). */
  beforeLock?: () => Promise<void>;
  /** Runs right before this order contacts the CA (pre-hooks); a rejection fails this certificate. */
  beforeOrder?: () => Promise<void>;
  /** Probes a webroot before its order (webroot-preflight.ts); absent: no probe (--no-preflight). */
  probeWebroot?: WebrootProber;
  signal?: AbortSignal;
  now?: () => Date;
}

export type IssueResult =
  /** `warnings` are for the user (e.g. the preferred chain was not offered); the certificate is stored. */
  | { outcome: 'issued'; record: CertificateRecord; paths: ExportedPaths | null; warnings: string[]; reason: string }
  /** Not due. `filesUpdated` when this host's files were missing or older than the store's version. */
  | { outcome: 'unchanged'; record: CertificateRecord; renewalTime: Date; paths: ExportedPaths; filesUpdated: boolean }
  /** Another process stored a new version while this one waited for the lock; `filesUpdated` when this host's files were behind. */
  | { outcome: 'renewed-elsewhere'; record: CertificateRecord; paths: ExportedPaths; filesUpdated: boolean };

// Refreshed every 10 s while held; a lock left by a crashed node frees itself within 30 s.
const LEASE_TTL_MS = 30_000;

/**
 * Gets a certificate for the request unless a valid one that covers the same identifiers exists and is not
 * due (then `unchanged`; missing files are written again).
 *
 * Holds the lock lease `certs/<name>` from before the order until the record is stored, waiting for another
 * holder if need be, and re-reads the record after taking it: if another process stored a version meanwhile,
 * that one is kept (`renewed-elsewhere`) instead of ordering a second certificate.
 * The solver is the caller's: it may be shared by concurrent orders and is not closed here.
 */
export async function issueCertificate(request: IssueRequest, dependencies: IssueDependencies): Promise<IssueResult> {
  // Every event of this certificate says which one it is: a run renews several at once.
  const deps: IssueDependencies = { ...dependencies, progress: (event) => dependencies.progress({ ...event, certificate: request.name }) };
  const now = deps.now ?? (() => new Date());
  const key = certificateKey(request.name);
  const before = request.storedRecord ?? (await readRecord(deps.store, key))?.record ?? null;
  if (before && !request.force && !orderNeeded(before, request, now())) return unchanged(before, request, deps, now());
  const reason = !before ? 'new certificate' : request.force ? (request.dryRun ? 'dry run' : 'forced (--force)') : dueReason(before, request, now());
  // Before the random delay and the lock: a certificate the CA's rate limit holds back costs no wait and no request.
  await refuseWhileHeldBack(deps.store, orderSubject(request), before, now());
  // A directory the files cannot go to is found now, not after the CA has issued (and before a random delay).
  if (!request.dryRun) await prepareExportDirectory(exportDirectoryOf(request.settings, deps.defaultExportDir), 'the export directory');

  await deps.beforeLock?.();
  const lease = await deps.store.lock(key, { ttlMs: LEASE_TTL_MS, waitMs: deps.orderTimeoutMs + 30_000, ...(deps.signal ? { signal: deps.signal } : {}) });
  if (!lease) {
    throw new OperationError(`another acmectl process has been working on the certificate "${request.name}" for too long`, { hint: 'try again later' });
  }
  try {
    const current = await readRecord(deps.store, key);
    // Another certificate, not merely another revision: a record rewritten to remember a rate limit or to store
    // the CA's renewal window (renewal-info.ts) is no renewal.
    const storedMeanwhile = current && (current.record.current.serial !== before?.current.serial || (request.startedAt !== undefined && new Date(current.record.current.issuedAt) >= request.startedAt));
    if (current && storedMeanwhile && sameIdentifiers(current.record.identifiers, request.identifiers)) {
      // Someone stored a version between our first read and the lock: it is the renewal we were about to make.
      if (request.dryRun) return { outcome: 'renewed-elsewhere', record: current.record, paths: exportedPaths(exportDirectoryOf(current.record.settings, deps.defaultExportDir), request.name), filesUpdated: false };
      return { outcome: 'renewed-elsewhere', record: current.record, ...(await syncFiles(current.record, deps)) };
    }
    // Another process may have met the CA's rate limit while this one waited for the lock.
    await refuseWhileHeldBack(deps.store, orderSubject(request), current?.record ?? null, now());
    await deps.beforeOrder?.();
    // Interrupted meanwhile (a pre-hook was running when SIGTERM came): do not start an order.
    if (deps.signal?.aborted) throw abortedError(deps.signal, 'before ordering');
    const orderStartedAt = now();
    let obtained: Obtained;
    try {
      obtained = await obtain(request, deps, lease.signal, storedCaBundle(request, current?.record ?? null), current?.record ?? null);
    } catch (error) {
      const noted = await noteFailedAttempt(deps.store, key, current, lease.signal, error, now());
      throw await rememberRefusal(deps.store, orderSubject(request), noted, lease.signal, error, now());
    }
    if (lease.signal.aborted) throw new AbortedError(`lost the lock on "${request.name}" while ordering; the new certificate was not stored`);
    const record = nextRecord(current?.record ?? null, request, obtained, lease.fence, now());
    deps.progress({ step: 'store', phase: 'start', id: request.name, message: 'storing the certificate' });
    // A stale holder (its lease lost, someone else renewed) cannot overwrite the newer version: the write is a
    // compare-and-set on the revision read under the lock. The fence is kept with the version as a record of
    // which lease wrote it; it is not compared, since fences of one store mean nothing in another (store copy).
    const written = await deps.store.put(key, encodeRecord(record), current ? { ifRev: current.entry.rev } : { ifAbsent: true });
    if (!written.ok) throw new OperationError(`the certificate "${request.name}" was changed by another process while this one was ordering; not overwriting it`);
    await forgetRefusals(deps.store, orderSubject(request), { firstIssue: current === null, orderStartedAt });
    deps.progress({ step: 'store', phase: 'done', id: request.name, message: `stored as version ${record.current.version}${request.dryRun ? ' (dry run: forgotten afterwards)' : ''}` });
    const { warnings } = obtained;
    if (request.dryRun) return { outcome: 'issued', record, paths: null, warnings, reason };
    deps.progress({ step: 'export', phase: 'start', id: request.name, message: 'writing the files' });
    const paths = await deployCurrent(record, deps);
    deps.progress({ step: 'export', phase: 'done', id: request.name, message: `files written to ${paths.dir}` });
    return { outcome: 'issued', record, paths, warnings, reason };
  } finally {
    await lease.release();
  }
}

interface ReadRecord {
  entry: Entry;
  record: CertificateRecord;
}

async function readRecord(store: Store, key: string): Promise<ReadRecord | null> {
  const entry = await store.get(key);
  return entry ? { entry, record: decodeRecord(entry.value, key) } : null;
}

/** An order is needed when the names changed, the certificate was revoked or expired, or it is due. */
export function orderNeeded(record: CertificateRecord, request: IssueRequest, now: Date): boolean {
  if (!sameIdentifiers(record.identifiers, request.identifiers)) return true;
  return decisionFor(record, request, now).due;
}

/** Why an order is needed ("due: revoked", "due: inside the CA's renewal window (ARI)", ...). */
export function dueReason(record: CertificateRecord, request: IssueRequest, now: Date): string {
  if (!sameIdentifiers(record.identifiers, request.identifiers)) return 'the names changed';
  return decisionFor(record, request, now).reason;
}

function decisionFor(record: CertificateRecord, request: IssueRequest, now: Date) {
  const renewalInfo = request.renewalInfo ?? record.renewalInfo;
  return recordDecision(renewalInfo ? { ...record, renewalInfo } : record, now, request.days);
}

async function unchanged(record: CertificateRecord, request: IssueRequest, deps: IssueDependencies, now: Date): Promise<IssueResult> {
  const due = decisionFor(record, request, now).renewalTime;
  if (request.dryRun) return { outcome: 'unchanged', record, renewalTime: due, paths: exportedPaths(exportDirectoryOf(record.settings, deps.defaultExportDir), record.name), filesUpdated: false };
  return { outcome: 'unchanged', record, renewalTime: due, ...(await syncFiles(record, deps)) };
}

/**
 * Brings this host's files up to the store's current version when they are missing or older (another node
 * of a fleet renewed it); says whether anything was written. A rollback on this host is left in place.
 */
async function syncFiles(record: CertificateRecord, deps: IssueDependencies): Promise<{ paths: ExportedPaths; filesUpdated: boolean }> {
  const out = exportDirectoryOf(record.settings, deps.defaultExportDir);
  if (deployedAtLeast(out, record.name, record.current.version)) return { paths: exportedPaths(out, record.name), filesUpdated: false };
  const deployed = await readDeployedVersion(out, record.name);
  const linked = await readExportedVersion(out, record.name);
  if (deployed !== null && deployed >= record.current.version && linked !== null) {
    return { paths: exportedPaths(out, record.name), filesUpdated: false };
  }
  deps.progress({ step: 'export', phase: 'start', id: record.name, message: 'writing the files' });
  const paths = await deployCurrent(record, deps);
  deps.progress({ step: 'export', phase: 'done', id: record.name, message: `version ${record.current.version} written to ${paths.dir}` });
  return { paths, filesUpdated: true };
}

/** Exports the current version in the certificate's formats and records it as deployed on this host. */
async function deployCurrent(record: CertificateRecord, deps: IssueDependencies): Promise<ExportedPaths> {
  const out = exportDirectoryOf(record.settings, deps.defaultExportDir);
  const paths = await exportVersion(record, record.current, { outDir: out, formats: record.settings.formats, pkcs12Password: () => deps.pkcs12Password(record.settings) });
  await recordDeployedVersion(out, record.name, record.current.version);
  return paths;
}

/**
 * The CA bundle to reach the CA with when the request names none: the one stored with this certificate
 * (same CA). The account's stored bundle is the last resort (openAccount).
 */
function storedCaBundle(request: IssueRequest, previous: CertificateRecord | null): string | null {
  if (request.settings.caBundlePem !== null) return request.settings.caBundlePem;
  return previous && previous.settings.server === request.settings.server ? previous.settings.caBundlePem : null;
}

/**
 * On a renewal at the CA that issued the current version, when the CA offers ARI: the CertID of that version,
 * for the order's `replaces` (RFC 9773 §5). Not on a dry run (the staging CA did not issue it).
 */
function replacedCertId(previous: CertificateRecord | null, request: IssueRequest, ca: CaClient): string | null {
  if (!previous || !ca.directory.renewalInfo || previous.settings.server !== (request.orderFrom ?? request.settings.server)) return null;
  try {
    return certId(previous.current.certPem);
  } catch {
    return null; // a certificate without an Authority Key Identifier: order without `replaces`
  }
}

interface Obtained {
  keyPem: string;
  chainPem: string;
  /** The CA bundle the CA was reached with: stored with the certificate for its renewals. */
  caBundlePem: string | null;
  warnings: string[];
}

async function obtain(request: IssueRequest, deps: IssueDependencies, leaseSignal: AbortSignal, caBundlePem: string | null, previous: CertificateRecord | null): Promise<Obtained> {
  const signal = deps.signal ? AbortSignal.any([deps.signal, leaseSignal]) : leaseSignal;
  const deadline = Date.now() + deps.orderTimeoutMs;
  // A port that is taken, or a webroot the web server does not serve, fails now, before an order is spent on it.
  await deps.solver.checkReady?.();
  if (deps.probeWebroot) await preflightWebroot(request, deps.solver, deps.probeWebroot, deps.progress);
  const { ca, accountKeyPem, caBundlePem: usedBundlePem } = await openAccount(request, deps, caBundlePem);
  const keyPem = await generatePrivateKey(request.settings.keyType);
  const { chainPem, warnings } = await obtainCertificate(ca, {
    identifiers: request.identifiers,
    profile: request.settings.profile,
    certificateKeyPem: keyPem,
    accountKeyPem,
    solver: deps.solver,
    deadline,
    signal,
    progress: deps.progress,
    preferredChain: request.settings.preferredChain,
    replaces: replacedCertId(previous, request, ca),
  });
  return { keyPem, chainPem, caBundlePem: usedBundlePem, warnings };
}

async function openAccount(request: IssueRequest, deps: IssueDependencies, caBundlePem: string | null): Promise<{ ca: CaClient; accountKeyPem: string; caBundlePem: string | null }> {
  const directoryUrl = request.orderFrom ?? request.settings.server;
  const found = await findAccountEntry(deps.store, directoryUrl, request.account.email);
  if (found) {
    const bundle = caBundlePem ?? found.record.caBundlePem ?? null;
    // A deactivated account is refused here (nothing sent); an interrupted key change is settled first.
    const existing = await usableAccount(deps.store, found, deps.connect, bundle);
    deps.progress({ step: 'account', phase: 'start', id: request.name, message: 'contacting the CA' });
    const ca = await deps.connect(directoryUrl, existing.keyPem, { accountUrl: existing.url, caBundlePem: bundle });
    deps.progress({ step: 'account', phase: 'done', id: request.name, message: `using account ${existing.url}` });
    return { ca, accountKeyPem: existing.keyPem, caBundlePem: bundle };
  }
  const { account, ca } = await registerAccount(
    deps.store,
    {
      directoryUrl,
      email: request.account.email,
      agreeTos: request.account.agreeTos,
      eab: request.account.eab,
      caBundlePem,
      ...(request.account.fetchEab ? { fetchEab: request.account.fetchEab } : {}),
    },
    (keyPem, options) => deps.connect(directoryUrl, keyPem, options),
    () => generatePrivateKey('ec256'),
    deps.progress,
  );
  return { ca, accountKeyPem: account.keyPem, caBundlePem };
}

function nextRecord(previous: CertificateRecord | null, request: IssueRequest, obtained: Obtained, fence: bigint, now: Date): CertificateRecord {
  const parts = splitChain(obtained.chainPem);
  const facts = readCertificateFacts(parts.certPem);
  const version: CertificateVersion = {
    version: (previous?.current.version ?? 0) + 1,
    ...facts,
    issuedAt: now.toISOString(),
    certPem: parts.certPem,
    chainPem: parts.chainPem,
    keyPem: obtained.keyPem,
    fence: fence.toString(),
  };
  return {
    schema: 1,
    name: request.name,
    identifiers: request.identifiers,
    settings: { ...request.settings, caBundlePem: obtained.caBundlePem },
    current: version,
    history: previous ? [previous.current, ...previous.history].slice(0, HISTORY_LIMIT) : [],
    createdAt: previous?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
    lastAttempt: { at: now.toISOString(), ok: true },
  };
}
