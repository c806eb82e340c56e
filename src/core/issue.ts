import type { CaClient, ExternalAccountBinding } from '../acme/client.js';
import { generatePrivateKey } from '../acme/keys.js';
import { obtainCertificate } from '../acme/obtain-certificate.js';
import type { Http01Solver } from '../challenge/solver.js';
import { exportPem, exportedPaths, readExportedVersion } from '../deploy/pem-export.js';
import type { ExportedPaths } from '../deploy/pem-export.js';
import type { Entry, Store } from '../store/store.js';
import { findAccount, registerAccount } from './accounts.js';
import { certificateKey, decodeRecord, encodeRecord, HISTORY_LIMIT, readCertificateFacts, splitChain } from './certificate-record.js';
import type { CertificateRecord, CertificateVersion, RenewalSettings } from './certificate-record.js';
import { AbortedError, OperationError } from './errors.js';
import type { ProgressListener } from './events.js';
import type { Identifier } from './identifiers.js';
import { isDue, renewalTime } from './renewal-window.js';

/** Opens the CA named in the settings with an account key (and, when known, the account URL). */
export type CaConnector = (accountKeyPem: string, options: { accountUrl?: string; eab?: ExternalAccountBinding }) => Promise<CaClient>;

export interface IssueRequest {
  name: string;
  identifiers: Identifier[];
  settings: RenewalSettings;
  force: boolean;
  account: { email: string | null; agreeTos: boolean; eab: ExternalAccountBinding | null };
}

export interface IssueDependencies {
  store: Store;
  connect: CaConnector;
  solver: Http01Solver;
  progress: ProgressListener;
  orderTimeoutMs: number;
  signal?: AbortSignal;
  now?: () => Date;
}

export type IssueResult =
  | { outcome: 'unchanged'; record: CertificateRecord; renewalTime: Date; paths: ExportedPaths; reexported: boolean }
  | { outcome: 'issued'; record: CertificateRecord; paths: ExportedPaths };

const LEASE_TTL_MS = 120_000;

/**
 * Gets a certificate for the request unless a valid one that covers the same identifiers exists and is not
 * due (then `unchanged`, and the export is brought back in line if its files are missing or older).
 *
 * Holds the lock lease `certs/<name>` from before the order until the record is stored, and re-reads the
 * record after taking it: if another process stored a newer version meanwhile, that one is kept.
 */
export async function issueCertificate(request: IssueRequest, deps: IssueDependencies): Promise<IssueResult> {
  const now = deps.now ?? (() => new Date());
  const key = certificateKey(request.name);
  const before = await readRecord(deps.store, key);
  const unchanged = await unchangedResult(before, request, now());
  if (unchanged && !request.force) return unchanged;

  const lease = await deps.store.lock(key, { ttlMs: LEASE_TTL_MS });
  if (!lease) {
    throw new OperationError(`another acmectl process is working on the certificate "${request.name}" right now`, { hint: 'try again in a minute' });
  }
  try {
    const current = await readRecord(deps.store, key);
    if (current && current.entry.rev !== before?.entry.rev) {
      // Someone else stored a version between our first read and the lock: do not order a second one.
      const theirs = await unchangedResult(current, request, now());
      if (theirs) return theirs;
    }
    const obtained = await obtain(request, deps, lease.signal);
    if (lease.signal.aborted) throw new AbortedError(`lost the lock on "${request.name}" while ordering; the new certificate was not stored`);
    const record = nextRecord(current?.record ?? null, request, obtained, lease.fence, now());
    deps.progress({ step: 'store', phase: 'start', message: 'storing the certificate' });
    const written = await deps.store.put(key, encodeRecord(record), current ? { ifRev: current.entry.rev } : { ifAbsent: true });
    if (!written.ok) throw new OperationError(`the certificate "${request.name}" was changed by another process while this one was ordering; not overwriting it`);
    deps.progress({ step: 'store', phase: 'done', message: `stored as version ${record.current.version}` });
    const paths = await exportRecord(record, deps.progress);
    return { outcome: 'issued', record, paths };
  } finally {
    await lease.release();
    await deps.solver.close();
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

/** `unchanged` when the stored certificate covers the same names, is still valid and is not due. */
async function unchangedResult(found: ReadRecord | null, request: IssueRequest, now: Date): Promise<IssueResult | null> {
  if (!found) return null;
  const { record } = found;
  if (!sameIdentifiers(record.identifiers, request.identifiers)) return null;
  const window = { notBefore: new Date(record.current.notBefore), notAfter: new Date(record.current.notAfter) };
  if (now >= window.notAfter || isDue({ ...window, now })) return null;
  const out = record.settings.out;
  let reexported = false;
  let paths = exportedPaths(out, record.name);
  if ((await readExportedVersion(out, record.name)) !== String(record.current.version)) {
    paths = await exportPem({ outDir: out, name: record.name, version: String(record.current.version), files: pemFiles(record.current) });
    reexported = true;
  }
  return { outcome: 'unchanged', record, renewalTime: renewalTime(window), paths, reexported };
}

function sameIdentifiers(a: readonly Identifier[], b: readonly Identifier[]): boolean {
  const norm = (list: readonly Identifier[]): string => list.map((i) => `${i.type}:${i.value}`).sort().join(' ');
  return norm(a) === norm(b);
}

interface Obtained {
  keyPem: string;
  chainPem: string;
}

async function obtain(request: IssueRequest, deps: IssueDependencies, leaseSignal: AbortSignal): Promise<Obtained> {
  const signal = deps.signal ? AbortSignal.any([deps.signal, leaseSignal]) : leaseSignal;
  const deadline = Date.now() + deps.orderTimeoutMs;
  const { ca, accountKeyPem } = await openAccount(request, deps);
  const keyPem = await generatePrivateKey(request.settings.keyType);
  const { chainPem } = await obtainCertificate(ca, {
    identifiers: request.identifiers,
    certificateKeyPem: keyPem,
    accountKeyPem,
    solver: deps.solver,
    deadline,
    signal,
    progress: deps.progress,
  });
  return { keyPem, chainPem };
}

async function openAccount(request: IssueRequest, deps: IssueDependencies): Promise<{ ca: CaClient; accountKeyPem: string }> {
  const directoryUrl = request.settings.server;
  const existing = await findAccount(deps.store, directoryUrl, request.account.email);
  if (existing) {
    deps.progress({ step: 'account', phase: 'start', message: 'contacting the CA' });
    const ca = await deps.connect(existing.keyPem, { accountUrl: existing.url });
    deps.progress({ step: 'account', phase: 'done', message: `using account ${existing.url}` });
    return { ca, accountKeyPem: existing.keyPem };
  }
  const { account, ca } = await registerAccount(
    deps.store,
    { directoryUrl, email: request.account.email, agreeTos: request.account.agreeTos, eab: request.account.eab },
    deps.connect,
    () => generatePrivateKey('ec256'),
    deps.progress,
  );
  return { ca, accountKeyPem: account.keyPem };
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
    settings: request.settings,
    current: version,
    history: previous ? [previous.current, ...previous.history].slice(0, HISTORY_LIMIT) : [],
    createdAt: previous?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

function pemFiles(version: CertificateVersion): { certPem: string; chainPem: string; fullchainPem: string; keyPem: string } {
  return { certPem: version.certPem, chainPem: version.chainPem, fullchainPem: version.certPem + version.chainPem, keyPem: version.keyPem };
}

async function exportRecord(record: CertificateRecord, progress: ProgressListener): Promise<ExportedPaths> {
  progress({ step: 'export', phase: 'start', message: 'writing the files' });
  const paths = await exportPem({ outDir: record.settings.out, name: record.name, version: String(record.current.version), files: pemFiles(record.current) });
  progress({ step: 'export', phase: 'done', message: `files written to ${paths.dir}` });
  return paths;
}
