import { createHash } from 'node:crypto';
import type { CaClient, ExternalAccountBinding } from '../acme/client.js';
import type { Store } from '../store/store.js';
import { storeKey, storePrefix } from '../store/keys.js';
import { OperationError, UsageError } from './errors.js';
import type { ProgressListener } from './events.js';
import type { CaConnectorOptions } from './issue.js';

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
}

// An email never equals this, so it safely names "registered without an email".
const NO_EMAIL = '_';

const directorySegment = (directoryUrl: string): string => createHash('sha256').update(directoryUrl).digest('hex').slice(0, 20);
export const accountKey = (directoryUrl: string, email: string | null): string => storeKey('accounts', directorySegment(directoryUrl), email ?? NO_EMAIL);
export const accountPrefix = (directoryUrl?: string): string => (directoryUrl ? storePrefix('accounts', directorySegment(directoryUrl)) : storePrefix('accounts'));

export async function readAccount(store: Store, key: string): Promise<AccountRecord | null> {
  const entry = await store.get(key);
  if (!entry) return null;
  try {
    return JSON.parse(Buffer.from(entry.value).toString('utf8')) as AccountRecord;
  } catch (error) {
    throw new OperationError(`the store entry ${key} is not a valid account`, { cause: error });
  }
}

/**
 * The account to use for this CA: the one for `email` when given; otherwise the only account for the CA.
 * Null when none exists. Throws UsageError when several exist and no email says which.
 */
export async function findAccount(store: Store, directoryUrl: string, email: string | null): Promise<AccountRecord | null> {
  if (email) return readAccount(store, accountKey(directoryUrl, email));
  const keys: string[] = [];
  for await (const key of store.list(accountPrefix(directoryUrl))) keys.push(key);
  if (keys.length === 0) return null;
  if (keys.length > 1) {
    throw new UsageError(`there are ${keys.length} accounts for ${directoryUrl}: say which with --email`);
  }
  return readAccount(store, keys[0]!);
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
    // acme-client binds the EAB to the client when it is made: a new one, with the credentials.
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
  };
  const key = accountKey(request.directoryUrl, request.email);
  const stored = await store.put(key, Buffer.from(JSON.stringify(account)), { ifAbsent: true });
  if (!stored.ok) {
    // Another process registered the same account meanwhile: theirs is the one we keep using.
    const theirs = await readAccount(store, key);
    if (theirs) {
      progress({ step: 'account', phase: 'done', message: `using account ${theirs.url}` });
      return { account: theirs, ca: await connect(theirs.keyPem, { accountUrl: theirs.url, caBundlePem: theirs.caBundlePem ?? request.caBundlePem }) };
    }
    throw new OperationError('the account could not be stored');
  }
  progress({ step: 'account', phase: 'done', message: 'ACME account registered' });
  return { account, ca };
}
