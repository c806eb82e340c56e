import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { accountKey, listAccounts } from '../../core/accounts.js';
import type { AccountRecord } from '../../core/accounts.js';
import { findCertificate } from '../../core/certificate-list.js';
import { checkCertificateName } from '../../core/certificate-record.js';
import type { CertificateRecord } from '../../core/certificate-record.js';
import { UsageError } from '../../domain/errors.js';
import type { Store } from '../../store/store.js';
import { readCertbotAccount } from './account.js';
import type { CertbotAccount } from './account.js';
import { readLineage } from './lineage.js';
import { mapRenewalConf } from './renewal-mapping.js';
import type { MappedSettings } from './renewal-mapping.js';

export interface ImportOptions {
  /** --ca-bundle: kept with the imported accounts and certificates, as issue keeps it. */
  caBundlePem: string | null;
  /** --out when given on the command line (stored with each certificate); null: each host's default. */
  out: string | null;
  now: Date;
}

/** A certbot account the imported certificates renew and revoke with. */
export interface PlannedAccount {
  certbotId: string;
  directoryUrl: string;
  url: string;
  email: string | null;
  /** import: written by the import; present: the store holds this account already (same URL). */
  action: 'import' | 'present';
}

export interface LineagePlan {
  name: string;
  action: 'import' | 'skip';
  /** Why it is skipped (null when imported). */
  reason: string | null;
  domains: string[];
  /** The version numbers kept, newest (current) first. */
  versions: number[];
  current: { version: number; serial: string; notAfter: string } | null;
  settings: MappedSettings | null;
  /** The account URL it renews and revokes with. */
  accountUrl: string | null;
  /** What certbot did for it that acmectl will not. */
  notes: string[];
}

export interface ImportPlan {
  configDir: string;
  lineages: LineagePlan[];
  /** The accounts the imported certificates use, each once. */
  accounts: PlannedAccount[];
  /** Executables in certbot's renewal-hooks/{pre,deploy,post}/: certbot ran them for every certificate. */
  hookScripts: { kind: 'pre' | 'deploy' | 'post'; path: string }[];
  /** What is written, kept out of the plan's printable parts (keys). */
  writes: { records: Map<string, CertificateRecord>; accounts: Map<PlannedAccount, AccountRecord> };
}

/**
 * Reads a certbot configuration directory (/etc/letsencrypt) and decides, for each lineage, whether it can be
 * taken over and with which settings. Reads certbot's files and the store (null: no store yet); writes nothing.
 * UsageError when `configDir` is not a certbot configuration directory (no renewal/ folder).
 */
export async function planCertbotImport(configDir: string, store: Store | null, options: ImportOptions): Promise<ImportPlan> {
  const renewalDir = checkCertbotDirectory(configDir);
  const names = readdirSync(renewalDir)
    .filter((file) => file.endsWith('.conf'))
    .map((file) => file.slice(0, -'.conf'.length))
    .sort();
  const accounts = new AccountPlanner(store ? await listAccounts(store) : [], options);
  const plan: ImportPlan = { configDir, lineages: [], accounts: [], hookScripts: hookScripts(configDir), writes: { records: new Map(), accounts: new Map() } };
  for (const name of names) {
    const { lineage, record } = await planLineage(configDir, name, store, accounts, options);
    plan.lineages.push(lineage);
    if (record) plan.writes.records.set(name, record);
  }
  plan.accounts = [...accounts.used];
  for (const account of plan.accounts) {
    const record = accounts.records.get(account);
    if (record) plan.writes.accounts.set(account, record);
  }
  return plan;
}

/** The directory's renewal/ folder; UsageError when there is none (checked before a store is opened). */
export function checkCertbotDirectory(configDir: string): string {
  const renewalDir = join(configDir, 'renewal');
  if (!isDirectory(renewalDir)) {
    throw new UsageError(`${configDir} is not a certbot configuration directory: it has no renewal/ folder`, {
      hint: 'give the directory certbot keeps its files in (default /etc/letsencrypt, or what certbot ran with --config-dir)',
    });
  }
  return renewalDir;
}

/** One lineage's entry in the plan, and the record to store when it is imported. */
async function planLineage(
  configDir: string,
  name: string,
  store: Store | null,
  accounts: AccountPlanner,
  options: ImportOptions,
): Promise<{ lineage: LineagePlan; record: CertificateRecord | null }> {
  const reading = readLineage(configDir, name);
  const skip = (reason: string, partial: Partial<LineagePlan> = {}) => ({
    lineage: { name, action: 'skip' as const, reason, domains: [], versions: [], current: null, settings: null, accountUrl: null, notes: [], ...partial },
    record: null,
  });
  if (!reading.ok) return skip(reading.reason);
  const { lineage } = reading;
  const current = lineage.versions[0]!;
  const seen: Partial<LineagePlan> = {
    domains: lineage.identifiers.map((i) => i.value),
    versions: lineage.versions.map((v) => v.version),
    current: { version: current.version, serial: current.serial, notAfter: current.notAfter },
    notes: lineage.notes,
  };
  try {
    checkCertificateName(name);
  } catch {
    return skip(`"${name}" cannot be an acmectl certificate name (letters, digits, ".", "_" and "-")`, seen);
  }
  const mapping = mapRenewalConf(lineage.conf, seen.domains!, current.keyPem);
  if (!mapping.ok) return skip(mapping.reason, seen);
  seen.settings = mapping.settings;
  seen.notes = [...lineage.notes, ...mapping.notes];
  const existing = store ? await findCertificate(store, name) : null;
  if (existing) {
    const same = existing.current.serial === current.serial || existing.history.some((v) => v.serial === current.serial);
    return skip(same ? 'already imported: the store holds this certificate under this name' : `the store already holds a certificate named ${name} (serial ${existing.current.serial}); acmectl delete ${name} first to import certbot's instead`, seen);
  }
  const account = accounts.accountFor(configDir, mapping.settings.server, mapping.accountId);
  if (!account.ok) return skip(account.reason, seen);
  seen.accountUrl = account.account.url;
  const record: CertificateRecord = {
    schema: 1,
    name,
    identifiers: lineage.identifiers,
    settings: {
      ...mapping.settings,
      out: options.out,
      // Renewals and revocation find the account by this email (null: the CA's only account in the store).
      email: account.account.email,
      formats: ['pem'],
      pkcs12PasswordFile: null,
      caBundlePem: options.caBundlePem,
      profile: null,
      // certbot keeps keys 0600 (users who opened them up did so by hand): acmectl's default, until --key-group.
      keyGroup: null,
      keyMode: null,
    },
    current,
    history: lineage.versions.slice(1),
    createdAt: lineage.versions[lineage.versions.length - 1]!.issuedAt,
    updatedAt: options.now.toISOString(),
  };
  return { lineage: { ...skip('').lineage, ...seen, action: 'import', reason: null }, record };
}

/**
 * Decides which certbot account each certificate uses, reading each once, against the accounts the store holds.
 * acmectl finds an account by CA and email, and a certificate without an email by "the CA's only account": a
 * certbot account is taken only when it keeps every stored certificate finding its own account.
 */
class AccountPlanner {
  /** What is written for each account to import. */
  readonly records = new Map<PlannedAccount, AccountRecord>();
  /** The accounts of the certificates to import, in the order first used. */
  readonly used = new Set<PlannedAccount>();
  private readonly read = new Map<string, { ok: true; account: PlannedAccount } | { ok: false; reason: string }>();
  /** Stored and planned accounts per directory URL. */
  private readonly known = new Map<string, { url: string; email: string | null }[]>();

  constructor(
    stored: AccountRecord[],
    private readonly options: ImportOptions,
  ) {
    for (const record of stored) this.knownFor(record.directoryUrl).push({ url: record.url, email: record.email });
  }

  accountFor(configDir: string, directoryUrl: string, id: string): { ok: true; account: PlannedAccount } | { ok: false; reason: string } {
    const key = `${directoryUrl}\n${id}`;
    let decided = this.read.get(key);
    if (!decided) {
      decided = this.decide(configDir, directoryUrl, id);
      this.read.set(key, decided);
    }
    if (decided.ok) this.used.add(decided.account);
    return decided;
  }

  private decide(configDir: string, directoryUrl: string, id: string): { ok: true; account: PlannedAccount } | { ok: false; reason: string } {
    let certbot: CertbotAccount;
    try {
      certbot = readCertbotAccount(configDir, directoryUrl, id);
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
    const known = this.knownFor(directoryUrl);
    const stored = known.find((k) => k.url === certbot.url);
    if (stored) {
      // Already in the store (imported before): found by the email it is stored under.
      const account: PlannedAccount = { certbotId: id, directoryUrl, url: certbot.url, email: stored.email, action: 'present' };
      return { ok: true, account };
    }
    const clash = known.find((k) => k.email === certbot.email || k.email === null || certbot.email === null);
    if (clash) {
      const why = clash.email === certbot.email ? `for this CA and ${certbot.email === null ? 'no email' : `the email ${certbot.email}`}` : 'for this CA, and without an email renewals could not tell them apart';
      return { ok: false, reason: `its certbot account ${certbot.url} would clash with the account ${clash.url} the store holds ${why}; import into a store without an account for ${directoryUrl}` };
    }
    known.push({ url: certbot.url, email: certbot.email });
    const account: PlannedAccount = { certbotId: id, directoryUrl, url: certbot.url, email: certbot.email, action: 'import' };
    this.records.set(account, {
      schema: 1,
      directoryUrl,
      email: certbot.email,
      url: certbot.url,
      keyPem: certbot.keyPem,
      eabKid: null,
      caBundlePem: this.options.caBundlePem,
      createdAt: certbot.createdAt ?? this.options.now.toISOString(),
    });
    return { ok: true, account };
  }

  private knownFor(directoryUrl: string): { url: string; email: string | null }[] {
    let list = this.known.get(directoryUrl);
    if (!list) this.known.set(directoryUrl, (list = []));
    return list;
  }
}

/** certbot runs every executable in renewal-hooks/pre, deploy and post for every certificate it renews. */
function hookScripts(configDir: string): ImportPlan['hookScripts'] {
  const scripts: ImportPlan['hookScripts'] = [];
  for (const kind of ['pre', 'deploy', 'post'] as const) {
    const dir = join(configDir, 'renewal-hooks', kind);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      const path = join(dir, file);
      try {
        if (statSync(path).isFile()) {
          accessSync(path, constants.X_OK);
          scripts.push({ kind, path });
        }
      } catch {
        // not executable: certbot skips it too
      }
    }
  }
  return scripts;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
