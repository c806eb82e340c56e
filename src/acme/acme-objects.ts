import { isIP } from 'node:net';
import { OperationError } from '../domain/errors.js';
import type { Identifier } from '../domain/identifiers.js';
import { visibleText } from '../domain/visible-text.js';
import type { AcmeProblem, AcmeSubproblem } from './problem.js';

/**
 * The shapes of the ACME objects a CA sends (RFC 8555 §7.1), checked before anything reads them: a CA that
 * sends an order without `authorizations`, or text where JSON belongs, gets a clear refusal ("the CA sent an
 * invalid order: authorizations is not a list of URLs", exit 1), never a TypeError from deep inside acmectl.
 * Only what acmectl uses is checked; unknown members are left alone (RFC 8555 §7.1 lets a CA add them).
 */

export type AcmeStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
const STATUSES: ReadonlySet<string> = new Set<AcmeStatus>(['pending', 'ready', 'processing', 'valid', 'invalid', 'deactivated', 'expired', 'revoked']);

export type AcmeObjectKind = 'directory' | 'account' | 'order' | 'authorization' | 'challenge' | 'problem document';

/** A CA's answer that is not the ACME object it should be. Exit 1: the CA is at fault, not the user. */
export class InvalidAcmeObjectError extends OperationError {
  constructor(kind: AcmeObjectKind, why: string) {
    super(`the CA sent an invalid ${kind}: ${why}`, { hint: 'this is a fault of the CA, or of something answering in its place: check the --server URL, and report it to the CA if it persists' });
  }
}

/** A member as it is shown in a message: quoted and with control characters made visible. */
export function quoted(value: unknown): string {
  return typeof value === 'string' ? `"${visibleText(value, 100)}"` : visibleText(JSON.stringify(value) ?? String(value), 100);
}

/** An absolute http(s) URL: the only kind of URL an ACME object may point acmectl at. */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/** The JSON object a CA answered with; the transport leaves a body that is not valid JSON as the text it was. */
export function jsonObject(data: unknown, kind: AcmeObjectKind): Record<string, unknown> {
  let value = data;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new InvalidAcmeObjectError(kind, 'it is not a JSON object');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidAcmeObjectError(kind, 'it is not a JSON object');
  return value as Record<string, unknown>;
}

function status(object: Record<string, unknown>, kind: AcmeObjectKind): AcmeStatus {
  if (typeof object.status !== 'string' || !STATUSES.has(object.status)) throw new InvalidAcmeObjectError(kind, `status ${quoted(object.status)} is not an ACME status`);
  return object.status as AcmeStatus;
}

function url(object: Record<string, unknown>, member: string, kind: AcmeObjectKind): string {
  if (!isHttpUrl(object[member])) throw new InvalidAcmeObjectError(kind, `${member} is not a URL (${quoted(object[member])})`);
  return object[member];
}

function optionalUrl(object: Record<string, unknown>, member: string, kind: AcmeObjectKind): string | undefined {
  return object[member] === undefined || object[member] === null ? undefined : url(object, member, kind);
}

function identifier(value: unknown, kind: AcmeObjectKind, where: string): Identifier {
  const candidate = value as { type?: unknown; value?: unknown } | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.type !== 'string' || typeof candidate.value !== 'string') {
    throw new InvalidAcmeObjectError(kind, `${where} is not an identifier (${quoted(value)})`);
  }
  return { type: candidate.type as Identifier['type'], value: candidate.value };
}

/** An ACME problem in a member (an order's or challenge's `error`); undefined when there is none. */
function optionalProblem(value: unknown): AcmeProblem | undefined {
  return value === undefined || value === null ? undefined : problemFrom(value, { required: true })!;
}

export interface AcmeDirectory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  revokeCert?: string;
  keyChange?: string;
  renewalInfo?: string;
  meta?: { termsOfService?: string; website?: string; caaIdentities?: string[]; externalAccountRequired?: boolean; profiles?: Record<string, string> };
}

/** The endpoints a directory may name (RFC 8555 §7.1.1, RFC 9773 renewalInfo): each one's URL is followed. */
export const DIRECTORY_ENDPOINTS = ['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange', 'renewalInfo'] as const;

/**
 * A directory (RFC 8555 §7.1.1). Null when the answer has not even the three endpoints every ACME CA names: then
 * it is not a directory at all (the caller says which URL to check); named endpoints that are not URLs, or a
 * `meta` that is not an object, make an invalid one.
 */
export function directoryFrom(data: unknown): AcmeDirectory | null {
  let object: Record<string, unknown>;
  try {
    object = jsonObject(data, 'directory');
  } catch {
    return null;
  }
  if (object.newNonce === undefined || object.newAccount === undefined || object.newOrder === undefined) return null;
  for (const endpoint of DIRECTORY_ENDPOINTS) {
    if (endpoint === 'newNonce' || endpoint === 'newAccount' || endpoint === 'newOrder') url(object, endpoint, 'directory');
    else optionalUrl(object, endpoint, 'directory');
  }
  const meta = object.meta;
  if (meta !== undefined && (typeof meta !== 'object' || meta === null || Array.isArray(meta))) throw new InvalidAcmeObjectError('directory', 'meta is not an object');
  const terms = (meta as { termsOfService?: unknown } | undefined)?.termsOfService;
  // Not necessarily http(s): Pebble's is a data: URL. It is only shown (visibleText), never followed.
  if (terms !== undefined && typeof terms !== 'string') throw new InvalidAcmeObjectError('directory', `meta.termsOfService is not text (${quoted(terms)})`);
  return object as unknown as AcmeDirectory;
}

/** The account object (RFC 8555 §7.1.2) as the CA reports it. */
export interface AcmeAccount {
  status: string;
  /** `mailto:` URLs; absent or empty when the account has no contact. */
  contact?: string[];
}

/** An account. Its status is required by RFC 8555 but not always sent in a newAccount answer: `fallbackStatus` then. */
export function accountFrom(data: unknown, fallbackStatus?: string): AcmeAccount {
  const object = jsonObject(data, 'account');
  const accountStatus = object.status === undefined && fallbackStatus !== undefined ? fallbackStatus : status(object, 'account');
  if (object.contact === undefined || object.contact === null) return { status: accountStatus };
  if (!Array.isArray(object.contact) || !object.contact.every((c) => typeof c === 'string')) throw new InvalidAcmeObjectError('account', 'contact is not a list of URLs');
  return { status: accountStatus, contact: object.contact as string[] };
}

export interface AcmeOrder {
  url: string;
  status: AcmeStatus;
  identifiers: Identifier[];
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: AcmeProblem;
}

/** An order (RFC 8555 §7.1.3) at `orderUrl`. */
export function orderFrom(data: unknown, orderUrl: string): AcmeOrder {
  const object = jsonObject(data, 'order');
  const orderStatus = status(object, 'order');
  if (!Array.isArray(object.identifiers) || object.identifiers.length === 0) throw new InvalidAcmeObjectError('order', 'identifiers is not a list of identifiers');
  const identifiers = object.identifiers.map((i, index) => identifier(i, 'order', `identifiers[${index}]`));
  if (!Array.isArray(object.authorizations) || !object.authorizations.every(isHttpUrl)) throw new InvalidAcmeObjectError('order', 'authorizations is not a list of URLs');
  const finalize = url(object, 'finalize', 'order');
  const certificate = optionalUrl(object, 'certificate', 'order');
  const error = optionalProblem(object.error);
  return { url: orderUrl, status: orderStatus, identifiers, authorizations: object.authorizations, finalize, ...(certificate ? { certificate } : {}), ...(error ? { error } : {}) };
}

export interface AcmeChallenge {
  type: string;
  url: string;
  status: AcmeStatus;
  token?: string;
  error?: AcmeProblem;
}

/** A challenge (RFC 8555 §7.1.5, §8). */
export function challengeFrom(data: unknown): AcmeChallenge {
  const object = jsonObject(data, 'challenge');
  if (typeof object.type !== 'string' || object.type === '') throw new InvalidAcmeObjectError('challenge', `type ${quoted(object.type)} is not a challenge type`);
  const challengeUrl = url(object, 'url', 'challenge');
  const challengeStatus = status(object, 'challenge');
  if (object.token !== undefined && typeof object.token !== 'string') throw new InvalidAcmeObjectError('challenge', 'token is not text');
  const error = optionalProblem(object.error);
  return { type: object.type, url: challengeUrl, status: challengeStatus, ...(typeof object.token === 'string' ? { token: object.token } : {}), ...(error ? { error } : {}) };
}

export interface AcmeAuthorization {
  url: string;
  status: AcmeStatus;
  identifier: Identifier;
  challenges: AcmeChallenge[];
}

/** An authorization (RFC 8555 §7.1.4) at `authorizationUrl`. */
export function authorizationFrom(data: unknown, authorizationUrl: string): AcmeAuthorization {
  const object = jsonObject(data, 'authorization');
  const authorizationStatus = status(object, 'authorization');
  const authorizationIdentifier = identifier(object.identifier, 'authorization', 'identifier');
  if (!Array.isArray(object.challenges)) throw new InvalidAcmeObjectError('authorization', 'challenges is not a list');
  return { url: authorizationUrl, status: authorizationStatus, identifier: authorizationIdentifier, challenges: object.challenges.map(challengeFrom) };
}

/**
 * A problem document (RFC 7807, RFC 8555 §6.7). Null when the answer is no problem document at all (no text
 * `type`: e.g. a proxy's error page), unless `required`; a document with a `detail` that is not text or
 * `subproblems` that are not a list of subproblems is invalid. The document itself is returned, unknown
 * members included, for --json.
 */
export function problemFrom(data: unknown, options: { required?: boolean } = {}): AcmeProblem | null {
  let object: Record<string, unknown>;
  try {
    object = jsonObject(data, 'problem document');
  } catch (error) {
    if (options.required) throw error;
    return null;
  }
  if (typeof object.type !== 'string') {
    if (options.required) throw new InvalidAcmeObjectError('problem document', `type ${quoted(object.type)} is not a problem type`);
    return null;
  }
  checkProblemMembers(object);
  if (object.subproblems !== undefined) {
    if (!Array.isArray(object.subproblems)) throw new InvalidAcmeObjectError('problem document', 'subproblems is not a list');
    for (const [index, sub] of object.subproblems.entries()) {
      if (typeof sub !== 'object' || sub === null || typeof (sub as { type?: unknown }).type !== 'string') throw new InvalidAcmeObjectError('problem document', `subproblems[${index}] is not a problem`);
      checkProblemMembers(sub as Record<string, unknown>);
      const subIdentifier = (sub as AcmeSubproblem).identifier;
      if (subIdentifier !== undefined) identifier(subIdentifier, 'problem document', `subproblems[${index}].identifier`);
    }
  }
  return object as unknown as AcmeProblem;
}

function checkProblemMembers(object: Record<string, unknown>): void {
  if (object.detail !== undefined && object.detail !== null && typeof object.detail !== 'string') throw new InvalidAcmeObjectError('problem document', 'detail is not text');
  if (object.status !== undefined && typeof object.status !== 'number') throw new InvalidAcmeObjectError('problem document', 'status is not a number');
}

/** "dns:example.com", "ip:2001:db8::1": one spelling per identifier, as a CA may spell names in another case. */
function identifierKey(i: Identifier): string {
  if (i.type === 'ip' && isIP(i.value) === 6) return `ip:${new URL(`http://[${i.value}]/`).hostname.slice(1, -1)}`;
  return `${i.type}:${i.value.toLowerCase()}`;
}

/** An order must be for exactly the identifiers ordered (in any order). */
export function checkOrderIdentifiers(order: AcmeOrder, ordered: readonly Identifier[]): void {
  const wanted = new Set(ordered.map(identifierKey));
  const got = new Set(order.identifiers.map(identifierKey));
  if (wanted.size !== got.size || ![...got].every((key) => wanted.has(key))) {
    throw new InvalidAcmeObjectError('order', `its identifiers are not the ones ordered (${visibleText(order.identifiers.map((i) => i.value).join(', '), 300)})`);
  }
}

/** An authorization must be for one of the identifiers ordered. */
export function checkAuthorizationIdentifier(authorization: AcmeAuthorization, ordered: readonly Identifier[]): void {
  if (!ordered.some((i) => identifierKey(i) === identifierKey(authorization.identifier))) {
    throw new InvalidAcmeObjectError('authorization', `its identifier ${visibleText(authorization.identifier.value, 300)} was not ordered`);
  }
}
