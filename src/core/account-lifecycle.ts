import { createPrivateKey } from 'node:crypto';
import type { AcmeAccount, CaClient } from '../acme/client.js';
import { jwkThumbprint } from '../pki/keys.js';
import { AcmeProblemError, describeProblem } from '../acme/problem.js';
import { shortProblemType } from '../domain/problem-type.js';
import type { AcmeProblem } from '../acme/problem.js';
import type { Store } from '../store/store.js';
import { accountKey, accountLockName, accountPrefix, findAccountEntry, readAccountEntry, writeAccount } from './accounts.js';
import type { AccountEntry, AccountRecord } from './accounts.js';
import { OperationError, UsageError } from '../domain/errors.js';
import type { ProgressListener } from '../domain/events.js';
import type { CaConnector } from './issue-request.js';

/**
 * The account lifecycle after registration (RFC 8555 §7.3): show, contact update, key rollover, deactivation.
 *
 * Every change asks the CA first and then writes the store with a compare-and-set on the entry's revision.
 * What the CA must not lose track of is written to the store *before* the CA is asked: the new key of a
 * rollover (pendingKeyPem), the intent to deactivate (deactivationRequestedAt). A crash or a store failure
 * between the CA's answer and the final write leaves that mark, and the next command using the account
 * settles it by asking the CA (settlePendingKey) or by repeating the request.
 */

/** Which account: the CA's directory URL and the email (null: the only account for the CA). */
export interface AccountSelector {
  directoryUrl: string;
  email: string | null;
}

// The commands that change an account hold this lease (refreshed while held; a crashed holder's frees itself).
const LOCK = { ttlMs: 30_000, waitMs: 60_000 };

async function withAccountLock<T>(store: Store, directoryUrl: string, work: () => Promise<T>): Promise<T> {
  const lease = await store.lock(accountLockName(directoryUrl), LOCK);
  if (!lease) throw new OperationError(`another acmectl process has been changing an account at ${directoryUrl} for over a minute`, { hint: 'try again later' });
  try {
    return await work();
  } finally {
    await lease.release();
  }
}

/** The selected account, or UsageError saying how to find or register one. Finishes an interrupted email move first. */
export async function requireAccount(store: Store, selector: AccountSelector): Promise<AccountEntry> {
  const entry = await findAccountEntry(store, selector.directoryUrl, selector.email);
  if (!entry) throw noAccountError(selector);
  return finishInterruptedMove(store, entry);
}

export function noAccountError(selector: AccountSelector): UsageError {
  return new UsageError(`there is no ACME account${selector.email ? ` for ${selector.email}` : ''} at ${selector.directoryUrl} in the store`, {
    hint: `acmectl account list shows the accounts (--server chooses the CA, --email the account); acmectl account register --server ${selector.directoryUrl} --email ${selector.email ?? 'you@example.com'} --agree-tos registers one`,
  });
}

/**
 * An email change writes the entry under its new key, then deletes the old one. Interrupted in between, both
 * exist with the same account URL, the new one naming the old email among its former ones: the old entry is
 * stale (a later key change would leave it with a dead key), so it is removed before the account is changed.
 */
async function finishInterruptedMove(store: Store, entry: AccountEntry): Promise<AccountEntry> {
  let survivor = entry;
  for await (const key of store.list(accountPrefix(entry.record.directoryUrl))) {
    if (key === survivor.key) continue;
    const other = await readAccountEntry(store, key);
    if (!other || other.record.url !== survivor.record.url) continue;
    if (other.record.formerEmails?.includes(survivor.record.email)) {
      await store.delete(survivor.key, { ifRev: survivor.rev });
      survivor = other;
    } else if (survivor.record.formerEmails?.includes(other.record.email)) {
      await store.delete(other.key, { ifRev: other.rev });
    }
  }
  return survivor;
}

/** The error for using a deactivated account (or one whose deactivation was asked but not confirmed). */
export function unusableAccountError(record: AccountRecord): UsageError | null {
  const who = `the ACME account ${record.url}${record.email ? ` (${record.email})` : ''} at ${record.directoryUrl}`;
  if (record.status === 'deactivated') {
    return new UsageError(`${who} was deactivated on ${day(record.deactivatedAt)}; it cannot be used any more`, {
      hint: `register a new account: acmectl account register --server ${record.directoryUrl}${record.email ? ` --email ${record.email}` : ''} --agree-tos (certificates that used this one then renew with the new account)`,
    });
  }
  if (record.deactivationRequestedAt) {
    return new UsageError(`${who} is being deactivated: the CA was asked on ${day(record.deactivationRequestedAt)}, and its answer was not recorded`, {
      hint: `finish it with acmectl account deactivate --server ${record.directoryUrl}${record.email ? ` --email ${record.email}` : ''} --yes`,
    });
  }
  return null;
}

function assertUsable(record: AccountRecord): void {
  const error = unusableAccountError(record);
  if (error) throw error;
}

/** How the account is reached: its own CA bundle unless the caller has a better one (a certificate's). */
function connectAs(connect: CaConnector, record: AccountRecord, keyPem: string, caBundlePem?: string | null): Promise<CaClient> {
  return connect(record.directoryUrl, keyPem, { accountUrl: record.url, caBundlePem: caBundlePem ?? record.caBundlePem ?? null });
}

/** What settling an interrupted key change did; 'unsettled': the CA accepted neither key (both kept). */
export type PendingKeyOutcome = 'none' | 'old-key-kept' | 'new-key-adopted' | 'unsettled';

/**
 * Settles a key change that was interrupted (a crash, no answer from the CA, or a store failure after the CA
 * switched): asks the CA which of the two stored keys it accepts for the account (a POST-as-GET signed with
 * each) and keeps that one. The caller holds the account lock (see usableAccount). Throws, changing nothing,
 * when the CA accepts neither or cannot be reached.
 */
export async function settlePendingKey(
  store: Store,
  entry: AccountEntry,
  connect: CaConnector,
  caBundlePem?: string | null,
): Promise<{ entry: AccountEntry; outcome: PendingKeyOutcome }> {
  const { record } = entry;
  if (!record.pendingKeyPem) return { entry, outcome: 'none' };
  const oldKeyRefusal = await refusalOf(connectAs(connect, record, record.keyPem, caBundlePem));
  let outcome: PendingKeyOutcome;
  let next: AccountRecord;
  const { pendingKeyPem, pendingKeySince: _since, ...settled } = record;
  if (oldKeyRefusal === null) {
    outcome = 'old-key-kept';
    next = settled;
  } else {
    // Only an answer proves which key the CA has (it accepts one key per account); a refusal may be a
    // passing failure (rate limit, server error), so without an answer for either key nothing is changed.
    const newKeyRefusal = await refusalOf(connectAs(connect, record, pendingKeyPem, caBundlePem));
    if (newKeyRefusal !== null) throw new UnsettledKeyError(record, oldKeyRefusal);
    outcome = 'new-key-adopted';
    next = { ...settled, keyPem: pendingKeyPem, keyChangedAt: new Date().toISOString() };
  }
  next = { ...next, updatedAt: new Date().toISOString() };
  const rev = await writeAccount(store, entry.key, next, { ifRev: entry.rev });
  if (rev !== null) return { entry: { ...entry, rev, record: next }, outcome };
  const now = await readAccountEntry(store, entry.key);
  if (now && !now.record.pendingKeyPem) return { entry: now, outcome }; // settled by another process
  throw new OperationError(`the account ${record.url} changed in the store while its interrupted key change was being settled`, { hint: 'try again' });
}

/** The CA answered neither key of an interrupted key change: both stay in the store. */
export class UnsettledKeyError extends OperationError {
  constructor(
    record: AccountRecord,
    readonly problem: AcmeProblem,
  ) {
    super(`a key change of the account ${record.url} was interrupted on ${day(record.pendingKeySince)}, and the CA accepts a request signed with neither key: ${describeProblem(problem)}`, {
      hint: 'both keys stay in the store, and the next command asks the CA again; acmectl account show says what the CA reports',
    });
  }
}

/** Null when the CA answers a POST-as-GET for the account signed with this client's key; the CA's problem otherwise. */
async function refusalOf(client: Promise<CaClient>): Promise<AcmeProblem | null> {
  try {
    await (await client).getAccount();
    return null;
  } catch (error) {
    if (error instanceof AcmeProblemError) return error.problem;
    throw error;
  }
}

/**
 * The account to sign orders and revocations with: refuses a deactivated one (UsageError, nothing sent) and
 * settles an interrupted key change first, so that the key used is the one the CA accepts. The settlement
 * holds the account lock: a rollover in progress (which holds it from storing the pending key until the CA
 * has answered) must not see its pending key dropped because the CA still accepted the old key a moment ago.
 */
export async function usableAccount(store: Store, entry: AccountEntry, connect: CaConnector, caBundlePem?: string | null): Promise<AccountRecord> {
  assertUsable(entry.record);
  if (!entry.record.pendingKeyPem) return entry.record;
  return withAccountLock(store, entry.record.directoryUrl, async () => {
    const now = await readAccountEntry(store, entry.key);
    if (!now) throw new OperationError(`the account ${entry.record.url} was removed from the store meanwhile`, { hint: 'acmectl account list shows the accounts' });
    assertUsable(now.record);
    return (await settlePendingKey(store, now, connect, caBundlePem)).entry.record;
  });
}

export interface AccountView {
  record: AccountRecord;
  /** What the CA reports now, or the problem it answered with (a deactivated account is refused). */
  ca: { account: AcmeAccount } | { problem: AcmeProblem };
  keyType: string;
  keyThumbprint: string;
  /** What settling an interrupted key change did (none when there was none). */
  pendingKey: PendingKeyOutcome;
}

/** `account show`: the stored account and its status as the CA reports it now (POST-as-GET). Never the key. */
export async function showAccount(store: Store, selector: AccountSelector, connect: CaConnector): Promise<AccountView> {
  return withAccountLock(store, selector.directoryUrl, async () => {
    const found = await requireAccount(store, selector);
    let settled: { entry: AccountEntry; outcome: PendingKeyOutcome };
    try {
      settled = await settlePendingKey(store, found, connect);
    } catch (error) {
      // Show what there is: the CA's refusal of the stored key, with both keys left in the store.
      if (!(error instanceof UnsettledKeyError)) throw error;
      settled = { entry: found, outcome: 'unsettled' };
    }
    const { entry, outcome } = settled;
    const { record } = entry;
    let ca: AccountView['ca'];
    try {
      ca = { account: await (await connectAs(connect, record, record.keyPem)).getAccount() };
    } catch (error) {
      if (!(error instanceof AcmeProblemError)) throw error;
      ca = { problem: error.problem };
    }
    return { record, ca, keyType: keyTypeOf(record.keyPem), keyThumbprint: jwkThumbprint(record.keyPem), pendingKey: outcome };
  });
}

export interface ContactUpdate {
  before: AccountRecord;
  after: AccountRecord;
  /** The account as the CA reports it after the change. */
  ca: AcmeAccount;
  /** Why the old store entry (under the old email) could not be removed; null when it was, or none was left. */
  oldEntryLeft: string | null;
}

/**
 * `account update`: changes the account's contact at the CA (RFC 8555 §7.3.2), then in the store. The store
 * key contains the email, so a new email moves the entry: the new entry is written (create-only) before the
 * old one is deleted (compare-and-set), so that a failure in between leaves a duplicate, never nothing; the
 * next account command removes the stale one (finishInterruptedMove). The moved account lists the old email
 * among its former ones, so certificates issued with it still find it (findAccount).
 */
export async function updateAccountContact(
  store: Store,
  selector: AccountSelector,
  newEmail: string | null,
  connect: CaConnector,
  progress: ProgressListener,
): Promise<ContactUpdate> {
  return withAccountLock(store, selector.directoryUrl, async () => {
    const found = await requireAccount(store, selector);
    assertUsable(found.record);
    const newKey = accountKey(found.record.directoryUrl, newEmail);
    if (newKey !== found.key) {
      const taken = await readAccountEntry(store, newKey);
      if (taken) {
        throw new UsageError(`the store already has an account for ${newEmail ?? 'no email'} at ${found.record.directoryUrl}: ${taken.record.url}`, {
          hint: 'there is one account per CA and email: choose another email (acmectl account list shows the accounts)',
        });
      }
    }
    const { entry } = await settlePendingKey(store, found, connect);
    const before = entry.record;
    const contact = newEmail ? [`mailto:${newEmail}`] : [];
    const saying = newEmail ? `${newEmail} as the contact` : 'no contact';

    progress({ step: 'account', phase: 'start', message: 'updating the contact at the CA' });
    const ca = await (await connectAs(connect, before, before.keyPem)).updateAccount({ contact }, 'updating the account contact');
    progress({ step: 'account', phase: 'done', message: `the CA now has ${saying} for ${before.url}` });

    // Moving to a new email: the old one joins the former emails, which certificates issued with it still find.
    const moved = newKey !== entry.key;
    const { formerEmails: previous = [], ...base } = before;
    const formerEmails = moved ? [...previous.filter((e) => e !== before.email && e !== newEmail), before.email] : previous;
    const after: AccountRecord = { ...base, email: newEmail, ...(formerEmails.length > 0 ? { formerEmails } : {}), updatedAt: new Date().toISOString() };
    const notRecorded = (why: string, cause?: unknown): OperationError =>
      new OperationError(`the CA now has ${saying} for ${before.url}, but the store could not record it: ${why}`, {
        hint: `the store still has the account under ${before.email ?? 'no email'}, and it keeps working; run acmectl account update again to record the change`,
        ...(cause === undefined ? {} : { cause }),
      });
    let written: string | null;
    try {
      written = await writeAccount(store, newKey, after, moved ? { ifAbsent: true } : { ifRev: entry.rev });
    } catch (error) {
      throw notRecorded((error as Error).message, error);
    }
    if (written === null) throw notRecorded('its entry was changed by another process meanwhile');
    let oldEntryLeft: string | null = null;
    if (moved) {
      try {
        if (!(await store.delete(entry.key, { ifRev: entry.rev }))) oldEntryLeft = 'it was changed by another process meanwhile';
      } catch (error) {
        oldEntryLeft = (error as Error).message;
      }
    }
    return { before, after, ca, oldEntryLeft };
  });
}

export type RolloverResult =
  /** The CA switched to the new key and the store holds it. */
  | { outcome: 'rolled-over'; record: AccountRecord; oldThumbprint: string; newThumbprint: string }
  /** An interrupted earlier rollover had switched the key at the CA; it is now the stored key too. Nothing new was asked. */
  | { outcome: 'finished-interrupted'; record: AccountRecord; newThumbprint: string };

/**
 * `account rollover`: a new key for the account (RFC 8555 §7.3.5).
 *
 * 1. Refuses, changing nothing, an account that is deactivated, or a CA without keyChange in its directory.
 * 2. Stores the new key as the account's *pending* key (compare-and-set on the revision read).
 * 3. Asks the CA to switch: the inner JWS signed by the new key, the outer by the old one (CaClient.changeKey).
 * 4. Makes the new key the account's key in the store (compare-and-set again).
 *
 * The old key stays the account's key until the CA has confirmed; the new one is in the store before the CA
 * hears of it. Whatever happens after step 2 (the CA refuses, does not answer, the process dies, the store
 * fails after the CA switched), the key the CA accepts is in the store, and settlePendingKey finds which.
 */
export async function rolloverAccountKey(
  store: Store,
  selector: AccountSelector,
  connect: CaConnector,
  generateKey: () => Promise<string>,
  progress: ProgressListener,
): Promise<RolloverResult> {
  return withAccountLock(store, selector.directoryUrl, async () => {
    const found = await requireAccount(store, selector);
    assertUsable(found.record);
    const { entry, outcome } = await settlePendingKey(store, found, connect);
    if (outcome === 'new-key-adopted') return { outcome: 'finished-interrupted', record: entry.record, newThumbprint: jwkThumbprint(entry.record.keyPem) };
    const record = entry.record;
    const ca = await connectAs(connect, record, record.keyPem);
    if (!ca.supportsKeyChange) {
      throw new OperationError(`${record.directoryUrl} does not offer account key changes (no keyChange in its directory); nothing was changed`, {
        hint: 'the account keeps its current key; to stop using it, deactivate it (acmectl account deactivate) and register a new one',
      });
    }

    const newKeyPem = await generateKey();
    const since = new Date().toISOString();
    const pending: AccountRecord = { ...record, pendingKeyPem: newKeyPem, pendingKeySince: since, updatedAt: since };
    const pendingRev = await writeAccount(store, entry.key, pending, { ifRev: entry.rev });
    if (pendingRev === null) throw new OperationError(`the account ${record.url} was changed by another acmectl process; nothing was changed`, { hint: 'try again' });

    progress({ step: 'account', phase: 'start', message: 'asking the CA to switch the account to a new key' });
    try {
      await ca.changeKey(newKeyPem);
    } catch (error) {
      if (error instanceof AcmeProblemError) {
        // The CA refused: it still has the old key. Forget the new one; if that write fails, the next command
        // finds that the CA accepts the old key and drops it all the same.
        await writeAccount(store, entry.key, { ...record, updatedAt: new Date().toISOString() }, { ifRev: pendingRev }).catch(() => null);
        throw error;
      }
      throw new OperationError(`the key change of ${record.url} got no answer from the CA, so whether the CA switched keys is not known: ${(error as Error).message}`, {
        hint: 'both keys are kept in the store; the next acmectl command for this account asks the CA which one it accepts and keeps that one (acmectl account show does it now)',
        cause: error,
      });
    }
    progress({ step: 'account', phase: 'done', message: 'the CA switched the account to the new key' });

    const { pendingKeyPem: _pending, pendingKeySince: _since, ...rest } = pending;
    const switched: AccountRecord = { ...rest, keyPem: newKeyPem, keyChangedAt: new Date().toISOString(), updatedAt: new Date().toISOString() };
    const notAdopted = (why: string, cause?: unknown): OperationError =>
      new OperationError(`the CA switched ${record.url} to the new key, but the store could not make it the account's key: ${why}`, {
        hint: "the old key no longer works; the new one is in the store as the account's pending key, and the next acmectl command for this account adopts it (acmectl account show does it now)",
        ...(cause === undefined ? {} : { cause }),
      });
    let adopted: string | null;
    try {
      adopted = await writeAccount(store, entry.key, switched, { ifRev: pendingRev });
    } catch (error) {
      throw notAdopted((error as Error).message, error);
    }
    if (adopted === null) {
      // Only a settlement (under this lock, so not now) would change it; whatever changed it, keep what holds the new key.
      const now = await readAccountEntry(store, entry.key).catch(() => null);
      if (now?.record.keyPem !== newKeyPem) throw notAdopted('its entry was changed by another process meanwhile');
    }
    return { outcome: 'rolled-over', record: switched, oldThumbprint: jwkThumbprint(record.keyPem), newThumbprint: jwkThumbprint(newKeyPem) };
  });
}

export type DeactivationResult =
  | { outcome: 'deactivated'; record: AccountRecord; caStatus: string }
  | { outcome: 'already-deactivated'; record: AccountRecord }
  | { outcome: 'declined'; record: AccountRecord };

/**
 * `account deactivate` (RFC 8555 §7.3.6): POST {status: "deactivated"}; the CA then refuses every request
 * signed for the account, for good. `confirm` is asked first (outside the lock: a person may take a while).
 * The store marks the request before asking the CA (deactivationRequestedAt: issue and renew no longer use
 * the account), and the CA's confirmation afterwards (status deactivated; the record stays for history).
 */
export async function deactivateAccount(
  store: Store,
  selector: AccountSelector,
  connect: CaConnector,
  confirm: (record: AccountRecord) => Promise<boolean>,
  progress: ProgressListener,
): Promise<DeactivationResult> {
  const shown = await requireAccount(store, selector);
  if (shown.record.status === 'deactivated') return { outcome: 'already-deactivated', record: shown.record };
  if (!(await confirm(shown.record))) return { outcome: 'declined', record: shown.record };
  return withAccountLock(store, selector.directoryUrl, async () => {
    const found = await requireAccount(store, selector);
    if (found.record.url !== shown.record.url) throw new OperationError(`the account changed in the store while you were asked (now ${found.record.url}); nothing was deactivated`, { hint: 'run the command again' });
    if (found.record.status === 'deactivated') return { outcome: 'already-deactivated', record: found.record };
    const askedBefore = found.record.deactivationRequestedAt !== undefined;
    const { entry } = await settlePendingKey(store, found, connect);
    const requestedAt = entry.record.deactivationRequestedAt ?? new Date().toISOString();
    const marked: AccountRecord = { ...entry.record, deactivationRequestedAt: requestedAt, updatedAt: new Date().toISOString() };
    const markedRev = await writeAccount(store, entry.key, marked, { ifRev: entry.rev });
    if (markedRev === null) throw new OperationError(`the account ${entry.record.url} was changed by another acmectl process; nothing was deactivated`, { hint: 'try again' });

    progress({ step: 'account', phase: 'start', message: 'deactivating the account at the CA' });
    let caStatus: string;
    try {
      caStatus = (await (await connectAs(connect, marked, marked.keyPem)).updateAccount({ status: 'deactivated' }, 'deactivating the account')).status;
    } catch (error) {
      if (error instanceof AcmeProblemError && askedBefore && shortProblemType(error.problem.type) === 'unauthorized') {
        // Asked before, and now the CA refuses the account itself: the earlier request went through.
        caStatus = 'deactivated';
      } else if (error instanceof AcmeProblemError) {
        await writeAccount(store, entry.key, { ...entry.record, updatedAt: new Date().toISOString() }, { ifRev: markedRev }).catch(() => null);
        throw error;
      } else {
        throw new OperationError(`the deactivation of ${entry.record.url} got no answer from the CA, so whether it is deactivated is not known: ${(error as Error).message}`, {
          hint: 'issue and renew no longer use the account; run acmectl account deactivate --yes again to finish it',
          cause: error,
        });
      }
    }
    if (caStatus !== 'deactivated') {
      throw new OperationError(`the CA answered the deactivation of ${entry.record.url} but reports its status as "${caStatus}"`, {
        hint: 'run acmectl account deactivate --yes again, or acmectl account show to see what the CA reports',
      });
    }
    progress({ step: 'account', phase: 'done', message: 'the CA deactivated the account' });

    const { deactivationRequestedAt: _requested, ...rest } = marked;
    const deactivated: AccountRecord = { ...rest, status: 'deactivated', deactivatedAt: new Date().toISOString(), updatedAt: new Date().toISOString() };
    let written: string | null = null;
    let why = 'its entry was changed by another process meanwhile';
    try {
      written = await writeAccount(store, entry.key, deactivated, { ifRev: markedRev });
    } catch (error) {
      why = (error as Error).message;
    }
    if (written === null) {
      throw new OperationError(`the CA deactivated ${entry.record.url}, but the store could not record it: ${why}`, {
        hint: 'the store marks the account as being deactivated, so issue and renew do not use it; run acmectl account deactivate --yes again to record it',
      });
    }
    return { outcome: 'deactivated', record: deactivated, caStatus };
  });
}

/** "EC P-256", "RSA 2048": what kind of key, never the key. */
export function keyTypeOf(keyPem: string): string {
  const key = createPrivateKey(keyPem);
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') return `EC ${CURVES[details.namedCurve ?? ''] ?? details.namedCurve ?? ''}`.trim();
  if (key.asymmetricKeyType === 'rsa') return `RSA ${details.modulusLength ?? ''}`.trim();
  return String(key.asymmetricKeyType);
}

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };


function day(iso: string | undefined): string {
  return iso ? iso.slice(0, 10) : 'an unknown date';
}
