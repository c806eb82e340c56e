import { createHash } from 'node:crypto';
import type { CaClient, ExternalAccountBinding } from '../acme/client.js';
import type { Store } from '../store/store.js';
import { storeKey, storePrefix } from '../store/keys.js';
import { OperationError, UsageError } from '../domain/errors.js';
import type { ProgressListener } from '../domain/events.js';
import type { CaConnectorOptions } from './issue-request.js';

/** An ACME account: one per CA directory URL and email. The key never leaves the store except to sign. */
export interface AccountRecord {
  schema: 1;
  directoryUrl: string;
  email: string | null;
  url: string;
  keyPem: string;
  /** The EAB key id it was bound with (the HMAC key is not kept: it is needed only once). */
  eabKid: string | null;
  /** Extra CA certificates (PEM) trusted when it was registered (--ca-bundle), used again for this CA. */
  caBundlePem?: string | null;
  createdAt: string;
  // The lifecycle fields below are optional: records written before they existed read as valid accounts.
  /** 'deactivated' once the CA confirmed `account deactivate`; absent means valid as far as this store knows. */
  status?: 'valid' | 'deactivated';
  deactivatedAt?: string;
  /** Set when `account deactivate` is about to ask the CA, cleared once its answer is recorded. */
  deactivationRequestedAt?: string;
  /**
   * The new key of an `account rollover`, stored before the CA is asked to switch: a crash or a store failure
   * after the CA switched can then never lose the only key that works (see settlePendingKey).
   */
  pendingKeyPem?: string;
  pendingKeySince?: string;
  keyChangedAt?: string;
  /** The emails (null: none) it had before `account update`: certificates issued with them still find it. */
  formerEmails?: (string | null)[];
  /** Accounts this CA and email had before, deactivated and replaced by a new registration (without their keys). */
  retired?: RetiredAccount[];
  updatedAt?: string;
}

export interface RetiredAccount {
  url: string;
  createdAt: string;
  deactivatedAt: string | null;
  eabKid: string | null;
}

/** An account as stored: its store key and the revision read, for compare-and-set writes. */
export interface AccountEntry {
  key: string;
  rev: string;
  record: AccountRecord;
}

// An email never equals this, so it safely names "registered without an email".
const NO_EMAIL = '_';

const directorySegment = (directoryUrl: string): string => createHash('sha256').update(directoryUrl).digest('hex').slice(0, 20);
export const accountKey = (directoryUrl: string, email: string | null): string => storeKey('accounts', directorySegment(directoryUrl), email ?? NO_EMAIL);
export const accountPrefix = (directoryUrl?: string): string => (directoryUrl ? storePrefix('accounts', directorySegment(directoryUrl)) : storePrefix('accounts'));

export async function readAccount(store: Store, key: string): Promise<AccountRecord | null> {
  return (await readAccountEntry(store, key))?.record ?? null;
}

export async function readAccountEntry(store: Store, key: string): Promise<AccountEntry | null> {
  const entry = await store.get(key);
  if (!entry) return null;
  try {
    return { key, rev: entry.rev, record: JSON.parse(Buffer.from(entry.value).toString('utf8')) as AccountRecord };
  } catch (error) {
    throw new OperationError(`the store entry ${key} is not a valid account`, { cause: error });
  }
}

/** Writes the account with a compare-and-set condition; the new revision, or null when the condition failed. */
export async function writeAccount(store: Store, key: string, record: AccountRecord, condition: { ifRev: string } | { ifAbsent: true }): Promise<string | null> {
  const written = await store.put(key, Buffer.from(JSON.stringify(record)), condition);
  return written.ok ? written.rev : null;
}

/** The lock lease that serializes the `account` commands changing one CA's accounts (an email change moves an entry). */
export const accountLockName = (directoryUrl: string): string => storeKey('account-changes', directorySegment(directoryUrl));

/**
 * The account to use for this CA: the one for `email` when given (or the one whose email was changed from
 * it); otherwise the only account for the CA. Null when none exists. Throws UsageError when several exist
 * and no email says which.
 */
export async function findAccount(store: Store, directoryUrl: string, email: string | null): Promise<AccountRecord | null> {
  return (await findAccountEntry(store, directoryUrl, email))?.record ?? null;
}

export async function findAccountEntry(store: Store, directoryUrl: string, email: string | null): Promise<AccountEntry | null> {
  if (email) return (await readAccountEntry(store, accountKey(directoryUrl, email))) ?? movedAccount(store, directoryUrl, email);
  const keys: string[] = [];
  for await (const key of store.list(accountPrefix(directoryUrl))) keys.push(key);
  if (keys.length === 0) return null;
  if (keys.length > 1) {
    throw new UsageError(`there are ${keys.length} accounts for ${directoryUrl}: say which with --email`);
  }
  return readAccountEntry(store, keys[0]!);
}

/**
 * The account whose email was changed away from `email` (`account update`), if any. Certificates keep the
 * email they were issued with (RenewalSettings.email), and renew and revoke look the account up by it.
 * Rather than rewriting every such certificate when the email changes (many records, each to be written
 * under its lock while a renewal may hold it, a failure halfway leaving some pointing nowhere, certificates
 * copied to other stores never reached), the account remembers its former emails: the one write that moves
 * the account keeps every certificate finding it. An account registered later under the old email takes
 * precedence (its direct key).
 */
async function movedAccount(store: Store, directoryUrl: string, email: string): Promise<AccountEntry | null> {
  let found: AccountEntry | null = null;
  for await (const key of store.list(accountPrefix(directoryUrl))) {
    const entry = await readAccountEntry(store, key);
    if (!entry?.record.formerEmails?.includes(email)) continue;
    // Moved away from the email more than once (old -> new, re-registered, moved again): the latest move wins.
    if (!found || (entry.record.updatedAt ?? '') > (found.record.updatedAt ?? '')) found = entry;
  }
  return found;
}

export async function listAccounts(store: Store): Promise<AccountRecord[]> {
  const accounts: AccountRecord[] = [];
  for await (const key of store.list(accountPrefix())) {
    const account = await readAccount(store, key);
    if (account) accounts.push(account);
  }
  return accounts;
}

export interface RegistrationRequest {
  directoryUrl: string;
  email: string | null;
  agreeTos: boolean;
  eab: ExternalAccountBinding | null;
  /** The CA bundle the CA was reached with, kept with the account. */
  caBundlePem: string | null;
  /**
   * Obtains EAB credentials when the CA requires them and none were given (ZeroSSL hands them out for an
   * email); absent when there is no such source.
   */
  fetchEab?: () => Promise<ExternalAccountBinding>;
  /** The deactivated account stored under this CA and email: the new one replaces it, keeping it as history. */
  replacing?: AccountEntry;
}

/**
 * Registers a new account with the CA (a fresh EC P-256 key) and stores it. `connect` opens the CA with the
 * new key. Refuses before contacting the CA when the terms are not agreed, and before registering when the
 * CA requires external account binding and none was given.
 */
export async function registerAccount(
  store: Store,
  request: RegistrationRequest,
  connect: (accountKeyPem: string, options: CaConnectorOptions) => Promise<CaClient>,
  generateKey: () => Promise<string>,
  progress: ProgressListener,
): Promise<{ account: AccountRecord; ca: CaClient }> {
  if (!request.agreeTos) {
    throw new UsageError(`an ACME account must be registered with ${request.directoryUrl} first, which needs your agreement to its terms of service`, {
      hint: 'add --agree-tos (and --email you@example.com for expiry notices), or run acmectl account register',
    });
  }
  progress({ step: 'account', phase: 'start', message: 'registering an ACME account' });
  const keyPem = await generateKey();
  let eab = request.eab;
  let ca = await connect(keyPem, { caBundlePem: request.caBundlePem, ...(eab ? { eab } : {}) });
  if (ca.requiresExternalAccount && !eab) {
    if (!request.fetchEab) {
      throw new UsageError(`${request.directoryUrl} requires external account binding`, {
        hint: 'get a key id and HMAC key from the CA and pass --eab-kid KID --eab-hmac-key KEY',
      });
    }
    progress({ step: 'account', phase: 'start', message: 'obtaining external account binding credentials' });
    eab = await request.fetchEab();
    // A CaClient carries the EAB it was connected with: a new one, with the credentials.
    ca = await connect(keyPem, { caBundlePem: request.caBundlePem, eab });
  }
  const registered = await ca.registerAccount({ email: request.email ?? undefined, agreeTos: true, withEab: eab !== null });
  const account: AccountRecord = {
    schema: 1,
    directoryUrl: request.directoryUrl,
    email: request.email,
    url: registered.url,
    keyPem,
    eabKid: eab?.kid ?? null,
    caBundlePem: request.caBundlePem,
    createdAt: new Date().toISOString(),
    // Replacing a deactivated account: certificates that found it by a former email find the new one the same way.
    ...(request.replacing?.record.formerEmails?.length ? { formerEmails: request.replacing.record.formerEmails } : {}),
    ...(request.replacing ? { retired: [...(request.replacing.record.retired ?? []), retiredAccount(request.replacing.record)] } : {}),
  };
  const key = accountKey(request.directoryUrl, request.email);
  const stored = await writeAccount(store, key, account, request.replacing ? { ifRev: request.replacing.rev } : { ifAbsent: true });
  if (stored === null) {
    // Another process registered the same account meanwhile: theirs is the one we keep using.
    const theirs = await readAccount(store, key);
    if (theirs && theirs.status !== 'deactivated') {
      progress({ step: 'account', phase: 'done', message: `using account ${theirs.url}` });
      return { account: theirs, ca: await connect(theirs.keyPem, { accountUrl: theirs.url, caBundlePem: theirs.caBundlePem ?? request.caBundlePem }) };
    }
    throw new OperationError(`the account ${account.url} was registered at the CA, but another acmectl process changed its store entry meanwhile; it was not stored`, {
      hint: 'acmectl account list shows what the store holds; register again if need be',
    });
  }
  progress({ step: 'account', phase: 'done', message: 'ACME account registered' });
  return { account, ca };
}

/** What is kept of a deactivated account replaced by a new registration: never its key, which no CA accepts any more. */
function retiredAccount(record: AccountRecord): RetiredAccount {
  return { url: record.url, createdAt: record.createdAt, deactivatedAt: record.deactivatedAt ?? null, eabKid: record.eabKid };
}
