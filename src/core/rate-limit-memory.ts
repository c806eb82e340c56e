/**
 * Rate-limit memory. When a CA refuses a request of an order with 429 (rate limited), or with 503, and says with
 * Retry-After when to ask again, acmectl keeps that time; until then `renew` skips the certificate and `issue`
 * refuses it (--force tries anyway), before any request to the CA. Asking again early only earns another
 * refusal, which some CAs count as well. Without a Retry-After nothing is kept: acmectl does not invent a wait.
 *
 * Where it is kept:
 * - a certificate with a record: in the record (`rateLimited`), written compare-and-set under the lock the order
 *   holds. The next version stored replaces the record without it: a successful order clears it.
 * - a certificate without a record yet (its first issue): the entry `ratelimits/certs/<name>`, which expires by
 *   itself at the time the CA named, and is deleted once the certificate is stored.
 * - an account: the entry `ratelimits/accounts/<CA>/<email>`, keyed like the account, expiring the same way.
 *   An entry, not a field of the account record, because a refused newAccount has no record yet.
 *
 * Which refusals hold back the whole account: those of newAccount and newOrder. A CA does not say what a limit
 * counts; at Let's Encrypt the limits met at newAccount are per IP address, and those met at newOrder per
 * account (new orders), per name (failed validations) or per set of names (duplicate certificates). Holding
 * back every certificate of the account errs on the side of not asking: a refusal of a later request of an
 * order (an authorization, finalize, the download) holds back only its certificate.
 */
import { retryAfterOf, AcmeProblemError, CaStatusError } from '../acme/problem.js';
import { shortProblemType } from '../domain/problem-type.js';
import type { Entry, Store } from '../store/store.js';
import { storeKey } from '../store/keys.js';
import { accountKey, findAccount } from './accounts.js';
import { certificateKey, encodeRecord } from './certificate-record.js';
import type { CertificateRecord, RateLimitMemory } from './certificate-record.js';
import { AbortedError, OperationError, UsageError } from '../domain/errors.js';
import type { IssueRequest } from './issue-request.js';
import { visibleText } from '../domain/visible-text.js';

/** A memory that holds a certificate back now, and whether it is the certificate's own or its account's. */
export interface Hold extends RateLimitMemory {
  scope: 'certificate' | 'account';
}

/** The certificate an order is (or would be) for, and the account it is ordered with. */
export interface OrderSubject {
  name: string;
  /** The ACME directory ordered from, which with `email` finds the account. */
  directoryUrl: string;
  email: string | null;
  /** --force, or a dry run (it orders from the staging CA): held back by nothing. */
  tryAnyway: boolean;
}

/** The order an issue request would make, as the memory sees it. */
export function orderSubject(request: IssueRequest): OrderSubject {
  return {
    name: request.name,
    directoryUrl: request.orderFrom ?? request.settings.server,
    email: request.account.email,
    tryAnyway: request.force || request.dryRun === true,
  };
}

/** The entry that holds the memory of whatever lives at `key` ("certs/a.example" → "ratelimits/certs/a.example"). */
export const rateLimitKey = (key: string): string => storeKey('ratelimits', ...key.split('/'));

/** The memory while it holds at `now`; null when absent, past, or not one this version understands. */
export function activeMemory(memory: unknown, now: Date): RateLimitMemory | null {
  const read = asMemory(memory);
  return read && Date.parse(read.until) > now.getTime() ? read : null;
}

/** A memory as stored, or null when it is not one (a record or entry from another version, damaged). */
function asMemory(value: unknown): RateLimitMemory | null {
  if (typeof value !== 'object' || value === null) return null;
  const { until, detail, at } = value as Partial<RateLimitMemory>;
  if (typeof until !== 'string' || typeof detail !== 'string' || typeof at !== 'string') return null;
  return Number.isFinite(Date.parse(until)) && Number.isFinite(Date.parse(at)) ? { until, detail, at } : null;
}

/**
 * What holds the certificate back at `now`: its own memory (in `record`, or the first-issue entry when there is
 * no record) or its account's; the one that lasts longer when both hold. Null when nothing does.
 */
export async function findHold(store: Store, subject: Omit<OrderSubject, 'tryAnyway'>, record: CertificateRecord | null, now: Date): Promise<Hold | null> {
  const own = record ? activeMemory(record.rateLimited, now) : await readMemory(store, rateLimitKey(certificateKey(subject.name)), now);
  const key = await accountMemoryKey(store, subject.directoryUrl, subject.email);
  const account = key ? await readMemory(store, key, now) : null;
  const holds: Hold[] = [...(own ? [{ ...own, scope: 'certificate' as const }] : []), ...(account ? [{ ...account, scope: 'account' as const }] : [])];
  // The longer wait first; for the same wait the account's, which says more (the others are held back too).
  return holds.sort((a, b) => Date.parse(b.until) - Date.parse(a.until) || (a.scope === 'account' ? -1 : 1))[0] ?? null;
}

/**
 * What `show` tells of a certificate: the hold, while one holds (`active`); else the record's own memory, past
 * (the next renewal tries again, and clears it once it succeeds); else null.
 */
export async function rateLimitOf(store: Store, record: CertificateRecord, now: Date): Promise<(Hold & { active: boolean }) | null> {
  const hold = await findHold(store, { name: record.name, directoryUrl: record.settings.server, email: record.settings.email }, record, now);
  if (hold) return { ...hold, active: true };
  const past = asMemory(record.rateLimited);
  return past ? { ...past, scope: 'certificate', active: false } : null;
}

/** The certificate is held back by a CA's rate limit: nothing was sent. Exit 1. */
export class HeldBackError extends OperationError {
  constructor(
    readonly certificate: string,
    readonly hold: Hold,
  ) {
    super(`${certificate} is held back by the CA's rate limit${hold.scope === 'account' ? ' on its account' : ''} until ${shownTime(hold.until)} (it said: ${hold.detail})`, {
      hint: 'try again after that, or add --force to try now (the CA may refuse again)',
    });
  }
}

/** Throws HeldBackError while the certificate or its account is held back, unless the subject tries anyway. */
export async function refuseWhileHeldBack(store: Store, subject: OrderSubject, record: CertificateRecord | null, now: Date): Promise<void> {
  if (subject.tryAnyway) return;
  const hold = await findHold(store, subject, record, now);
  if (hold) throw new HeldBackError(subject.name, hold);
}

/**
 * The error to report for a failed order. When the CA said when to ask again, that is remembered (see the top of
 * this file) and the error's advice says what acmectl will do; `current` is the record as read under the lock
 * (null for a first issue), and the lock must still be held. When the memory cannot be stored, the CA's error
 * still comes back, its advice saying so. Never throws.
 */
export async function rememberRefusal(
  store: Store,
  subject: OrderSubject,
  current: { entry: Entry; record: CertificateRecord } | null,
  leaseSignal: AbortSignal,
  error: unknown,
  now: Date,
): Promise<unknown> {
  const retryAfter = retryAfterOf(error);
  // A dry run's refusal came from the staging CA; a lost lock means another process may be writing.
  if (!retryAfter || subject.tryAnyway || leaseSignal.aborted || error instanceof AbortedError) return error;
  const refusal = error as AcmeProblemError | CaStatusError;
  const memory: RateLimitMemory = { until: retryAfter.until.toISOString(), detail: detailOf(refusal), at: now.toISOString() };
  const accountWide = retryAfter.request === 'newAccount' || retryAfter.request === 'newOrder';
  try {
    if (current) {
      const record: CertificateRecord = { ...current.record, rateLimited: memory, updatedAt: now.toISOString() };
      const written = await store.put(certificateKey(subject.name), encodeRecord(record), { ifRev: current.entry.rev });
      if (!written.ok) throw new OperationError('the certificate record changed meanwhile');
    } else {
      await putMemory(store, rateLimitKey(certificateKey(subject.name)), memory, now);
    }
    const key = accountWide ? await accountMemoryKey(store, subject.directoryUrl, subject.email) : null;
    if (key) await putMemory(store, key, memory, now);
  } catch (storeError) {
    const why = storeError instanceof Error ? storeError.message : String(storeError);
    return refusal.withHint(`the CA asked not to be asked again before ${shownTime(memory.until)}, but acmectl could not note that in the store (${why})`);
  }
  const then = current ? 'acmectl renew tries again after that' : 'acmectl issue refuses this certificate until then';
  const others = accountWide ? ', and holds back every certificate of this account meanwhile' : '';
  return refusal.withHint(`the CA asked not to be asked again before ${shownTime(memory.until)}: ${then}${others} (--force tries sooner)`);
}

/**
 * After a successful order: forgets the first-issue entry and the account's memory, when they were noted before
 * the order began (a refusal another certificate of the account met meanwhile stays). The record's own memory
 * went with the record the new version replaced. Best effort: what is left expires by itself.
 */
export async function forgetRefusals(store: Store, subject: OrderSubject, options: { firstIssue: boolean; orderStartedAt: Date }): Promise<void> {
  const keys = [
    ...(options.firstIssue ? [rateLimitKey(certificateKey(subject.name))] : []),
    ...[await accountMemoryKey(store, subject.directoryUrl, subject.email).catch(() => null)].filter((k): k is string => k !== null),
  ];
  for (const key of keys) {
    try {
      const entry = await store.get(key);
      const memory = entry ? parseMemory(entry.value) : null;
      if (entry && (memory === null || Date.parse(memory.at) < options.orderStartedAt.getTime())) await store.delete(key, { ifRev: entry.rev });
    } catch {
      // The certificate is stored; a memory left behind expires at its own time.
    }
  }
}

/** "2026-11-29T14:03:00Z": an ISO time to the second, as people read it. */
export function shownTime(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The key of the account's memory: the account found for the CA and email (without an email, the only account
 * of the CA), or the account a registration would create. Null when several accounts leave it open; the order
 * itself then says to choose one with --email.
 */
async function accountMemoryKey(store: Store, directoryUrl: string, email: string | null): Promise<string | null> {
  try {
    const account = await findAccount(store, directoryUrl, email);
    return rateLimitKey(accountKey(directoryUrl, account ? account.email : email));
  } catch (error) {
    if (error instanceof UsageError) return null;
    throw error;
  }
}

async function readMemory(store: Store, key: string, now: Date): Promise<RateLimitMemory | null> {
  const entry = await store.get(key);
  return entry ? activeMemory(parseMemory(entry.value), now) : null;
}

function parseMemory(bytes: Uint8Array): RateLimitMemory | null {
  try {
    return asMemory(JSON.parse(Buffer.from(bytes).toString('utf8')));
  } catch {
    return null;
  }
}

/** Writes a memory entry that disappears at `until`: nothing is left behind for a certificate never issued. */
async function putMemory(store: Store, key: string, memory: RateLimitMemory, now: Date): Promise<void> {
  const ttlMs = Date.parse(memory.until) - now.getTime();
  if (ttlMs <= 0) return;
  await store.put(key, Buffer.from(JSON.stringify(memory)), { ttlMs });
}

function detailOf(error: AcmeProblemError | CaStatusError): string {
  if (error instanceof CaStatusError) return `HTTP ${error.status}`;
  const { detail, type } = error.problem;
  return visibleText(detail ? String(detail) : shortProblemType(String(type)), 300);
}
