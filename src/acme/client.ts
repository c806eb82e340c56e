import { X509Certificate } from 'node:crypto';
import { OperationError, UsageError } from '../domain/errors.js';
import type { Identifier } from '../domain/identifiers.js';
import { accountFrom, authorizationFrom, challengeFrom, directoryFrom, isHttpUrl, orderFrom, problemFrom } from './acme-objects.js';
import type { AcmeAccount, AcmeAuthorization, AcmeDirectory, AcmeOrder } from './acme-objects.js';
import { allowedOrigins, checkOnCaOrigin } from './ca-origins.js';
import { linkUrls } from './link-header.js';
import { AcmeProblemError, CaStatusError, isAcmeProblem } from './problem.js';
import { shortProblemType } from '../domain/problem-type.js';
import { abortableSleep, parseRetryAfter } from './polling.js';
import type { PollResult } from './polling.js';
import { retryAfterUntil } from './retry-after.js';
import type { CaRequestKind, CaRetryAfter } from './retry-after.js';
import { externalAccountBinding, JwsSigner } from './jws.js';
import { isNonce, noncePoolFor, type NoncePool } from './nonce-pool.js';
import { caRequest, SERVER_ERROR_RETRIES, serverErrorWaitMs, trustForOrigin, unauthenticatedGet, unsignedRequest } from './transport.js';
import type { CaAnswer, TransportOptions } from './transport.js';
import { visibleText } from '../domain/visible-text.js';

export type { AcmeAccount, AcmeAuthorization, AcmeChallenge, AcmeDirectory, AcmeOrder, AcmeStatus } from './acme-objects.js';

export interface DownloadedCertificate {
  /** Leaf first, as the CA sent it. */
  pem: string;
  /** Absolute URLs of the alternate chains offered, in the CA's order. */
  alternates: string[];
}

export interface ExternalAccountBinding {
  kid: string;
  /** base64url as the CA gives it. Never printed. */
  hmacKey: string;
}

export interface CaConnectOptions {
  directoryUrl: string;
  accountKeyPem: string;
  /** Known account URL; absent until the account is registered. */
  accountUrl?: string;
  eab?: ExternalAccountBinding;
  /** Extra CA certificates (PEM) trusted for this CA's origin, besides Node's roots. */
  caBundlePem?: string;
  requestTimeoutMs: number;
  /** The command's signal (SIGINT/SIGTERM/SIGHUP): aborts a request in flight at once. */
  signal?: AbortSignal;
}

type HttpAnswer = CaAnswer;

/**
 * One account's conversation with one CA: JWS-signed requests (jws.ts) with nonces kept from every answer
 * (nonce-pool.ts), over acmectl's own transport (transport.ts), so that signing, retries, polling, timeouts and
 * problem documents are all ours. Methods throw AcmeProblemError when the CA answers with a problem document,
 * CaUnreachableError when it does not answer.
 */
export class CaClient {
  private readonly signer: JwsSigner;
  /** The origins signed requests may go to (ca-origins.ts). */
  private readonly origins: ReadonlySet<string>;
  private readonly nonces: NoncePool;

  private constructor(
    accountKeyPem: string,
    readonly directoryUrl: string,
    readonly directory: AcmeDirectory,
    private accountUrl: string | undefined,
    private readonly eab: ExternalAccountBinding | undefined,
    /** The request deadline, and the command's signal (it also ends a wait before a request is signed again). */
    private readonly transport: TransportOptions,
  ) {
    this.signer = new JwsSigner(accountKeyPem);
    this.origins = allowedOrigins(directoryUrl, directory);
    this.nonces = noncePoolFor(directory.newNonce);
  }

  static async connect(options: CaConnectOptions): Promise<CaClient> {
    const transport = transportOf(options);
    if (options.caBundlePem) trustForOrigin(options.directoryUrl, options.caBundlePem);
    const directory = await readingDirectory(options.directoryUrl, async () => {
      const answer = await unsignedRequest(options.directoryUrl, 'GET', transport);
      if (answer.status >= 400) throw new Error(`HTTP ${answer.status}`);
      return answer.data;
    });
    return new CaClient(options.accountKeyPem, options.directoryUrl, directory, options.accountUrl, options.eab, transport);
  }

  /** The CA's directory alone (no account): what `acmectl ca` shows and what `--profile` is checked against. */
  static async readDirectory(options: Omit<CaConnectOptions, 'accountKeyPem' | 'accountUrl' | 'eab'>): Promise<AcmeDirectory> {
    return readingDirectory(options.directoryUrl, async () => {
      const answer = await unauthenticatedGet(options.directoryUrl, options);
      if (answer.status >= 400) throw new Error(`HTTP ${answer.status}`);
      return answer.data;
    });
  }

  /** The directory and the CA's clock: its answer's Date header (null when absent or unreadable), for `acmectl doctor`. */
  static async readDirectoryDated(options: Omit<CaConnectOptions, 'accountKeyPem' | 'accountUrl' | 'eab'>): Promise<{ directory: AcmeDirectory; serverDate: Date | null }> {
    let date: unknown;
    const directory = await readingDirectory(options.directoryUrl, async () => {
      const answer = await unauthenticatedGet(options.directoryUrl, options);
      if (answer.status >= 400) throw new Error(`HTTP ${answer.status}`);
      date = answer.headers.date;
      return answer.data;
    });
    const serverDate = typeof date === 'string' ? new Date(date) : null;
    return { directory, serverDate: serverDate && !Number.isNaN(serverDate.getTime()) ? serverDate : null };
  }

  get termsOfService(): string | undefined {
    return this.directory.meta?.termsOfService;
  }

  get requiresExternalAccount(): boolean {
    return this.directory.meta?.externalAccountRequired === true;
  }

  /** newAccount (RFC 8555 §7.3). Returns the account URL. Registering an existing key returns its account. */
  async registerAccount(request: { email?: string; agreeTos: boolean; withEab: boolean }): Promise<{ url: string; status: string }> {
    const payload: Record<string, unknown> = { termsOfServiceAgreed: request.agreeTos };
    if (request.email) payload.contact = [`mailto:${request.email}`];
    const answer = await this.signed(this.directory.newAccount, payload, { kid: null, includeExternalAccountBinding: request.withEab });
    const body = expectStatus(answer, [200, 201], 'registering the account', { request: 'newAccount', ...(request.withEab ? { hintFor: EAB_REFUSED_HINT } : {}) });
    const account = accountFrom(body, 'valid');
    const url = this.location(answer, 'account');
    this.accountUrl = url;
    return { url, status: account.status };
  }

  /** Whether the CA offers account key changes (RFC 8555 §7.3.5): `keyChange` in its directory. */
  get supportsKeyChange(): boolean {
    return typeof this.directory.keyChange === 'string' && this.directory.keyChange !== '';
  }

  /** The account as the CA reports it now: POST-as-GET to the account URL (RFC 8555 §7.3). */
  async getAccount(): Promise<AcmeAccount> {
    return accountFrom(expectStatus(await this.post(this.accountUrlOrThrow('reading the account'), null, 'reading the account'), [200], 'reading the account'));
  }

  /**
   * Changes the account (RFC 8555 §7.3.2, §7.3.6): `contact` replaces the contacts (an empty list removes
   * them), `status: 'deactivated'` deactivates it for good. Returns the account as the CA now reports it.
   */
  async updateAccount(changes: { contact?: string[]; status?: 'deactivated' }, what: string): Promise<AcmeAccount> {
    return accountFrom(expectStatus(await this.post(this.accountUrlOrThrow(what), changes, what), [200], what));
  }

  /**
   * Rolls the account over to `newKeyPem` (RFC 8555 §7.3.5): the inner JWS, signed by the new key (with its
   * `jwk`, no nonce), carries {account, oldKey}; the outer one is signed by the current key with the account
   * URL as `kid`, both to the keyChange URL. Once this returns, the CA accepts only the new key: this client,
   * still holding the old one, must not be used for the account again.
   */
  async changeKey(newKeyPem: string): Promise<void> {
    const url = this.directory.keyChange;
    if (!url) throw new OperationError(`${this.directoryUrl} does not offer account key changes (no keyChange in its directory)`);
    const accountUrl = this.accountUrlOrThrow('changing the account key');
    const inner = new JwsSigner(newKeyPem).sign({ url }, { account: accountUrl, oldKey: this.signer.jwk });
    expectStatus(await this.signed(url, inner, { kid: accountUrl }), [200], 'changing the account key');
  }

  /**
   * newOrder (RFC 8555 §7.4), with the CA's certificate profile when one is asked for (draft-aaron-acme-profiles)
   * and the CertID of the certificate it replaces (RFC 9773 §5).
   */
  async newOrder(identifiers: readonly Identifier[], options: { profile?: string | null; replaces?: string | null } = {}): Promise<AcmeOrder> {
    const payload = { identifiers, ...(options.profile ? { profile: options.profile } : {}), ...(options.replaces ? { replaces: options.replaces } : {}) };
    const answer = await this.post(this.directory.newOrder, payload, 'creating the order');
    const body = expectStatus(answer, [201], 'creating the order', { request: 'newOrder' });
    const url = this.location(answer, 'order');
    return this.followable(orderFrom(body, url));
  }

  async getOrder(url: string): Promise<PollResult<AcmeOrder>> {
    const answer = await this.post(url, null, 'reading the order');
    return { value: this.followable(orderFrom(expectStatus(answer, [200], 'reading the order'), url)), retryAfterMs: parseRetryAfter(answer.headers['retry-after']) };
  }

  async getAuthorization(url: string): Promise<PollResult<AcmeAuthorization>> {
    const answer = await this.post(url, null, 'reading the authorization');
    return { value: this.followable(authorizationFrom(expectStatus(answer, [200], 'reading the authorization'), url)), retryAfterMs: parseRetryAfter(answer.headers['retry-after']) };
  }

  /** Tells the CA the challenge is ready to be validated (RFC 8555 §7.5.1); it answers with the challenge. */
  async respondToChallenge(url: string): Promise<void> {
    challengeFrom(expectStatus(await this.post(url, {}, 'answering the challenge'), [200], 'answering the challenge'));
  }

  async finalize(order: AcmeOrder, csrDer: Uint8Array): Promise<PollResult<AcmeOrder>> {
    const answer = await this.post(order.finalize, { csr: Buffer.from(csrDer).toString('base64url') }, 'finalizing the order');
    return { value: this.followable(orderFrom(expectStatus(answer, [200], 'finalizing the order'), order.url)), retryAfterMs: parseRetryAfter(answer.headers['retry-after']) };
  }

  /** revokeCert (RFC 8555 §7.6), signed with the account key. `reason` is an RFC 5280 CRLReason code. */
  async revokeCertificate(certificatePem: string, reason: number): Promise<void> {
    if (!this.directory.revokeCert) throw new OperationError('this CA does not offer revocation (no revokeCert in its directory)');
    const der = new X509Certificate(certificatePem).raw;
    expectStatus(await this.post(this.directory.revokeCert, { certificate: der.toString('base64url'), reason }, 'revoking the certificate'), [200], 'revoking the certificate', { request: 'revokeCert' });
  }

  /**
   * The certificate chain at `url` as PEM (leaf first), with the URLs of the alternate chains the CA offers
   * (RFC 8555 §7.4.2: `Link: <url>;rel="alternate"`, resolved against `url`). Not read further here: see chains.ts.
   */
  async downloadCertificate(url: string): Promise<DownloadedCertificate> {
    const answer = await this.post(url, null, 'downloading the certificate');
    const body = expectStatus(answer, [200], 'downloading the certificate');
    const pem = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : '';
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new OperationError('the CA sent something other than a PEM certificate chain');
    const link = (answer.headers as Record<string, string | string[] | undefined>).link;
    return { pem, alternates: linkUrls(link, 'alternate', url) };
  }

  /**
   * The object, once every URL in it is on one of the CA's origins: a URL elsewhere is refused when the object
   * arrives, before anything is presented or sent (signed() checks each request again).
   */
  private followable<T extends AcmeOrder | AcmeAuthorization>(object: T): T {
    const urls = 'challenges' in object ? object.challenges.map((c) => c.url) : [...object.authorizations, object.finalize, ...(object.certificate ? [object.certificate] : [])];
    for (const url of urls) checkOnCaOrigin(url, this.origins);
    return object;
  }

  /** The URL in a Location header (an account's or an order's): an http(s) URL on one of the CA's origins. */
  private location(answer: HttpAnswer, kind: 'account' | 'order'): string {
    const url = answer.headers.location;
    if (!url) throw new OperationError(`the CA created the ${kind} but did not say its URL (Location header missing)`);
    if (!isHttpUrl(url)) throw new OperationError(`the CA sent an invalid ${kind} URL (Location header): ${visibleText(url, 300)}`);
    checkOnCaOrigin(url, this.origins);
    return url;
  }

  private accountUrlOrThrow(what: string): string {
    if (!this.accountUrl) throw new Error(`no account URL while ${what}`);
    return this.accountUrl;
  }

  /** A request signed with the account URL as `kid`; a null payload is a POST-as-GET (RFC 8555 §6.3). */
  private post(url: string, payload: unknown, what: string): Promise<HttpAnswer> {
    if (!this.accountUrl) throw new Error(`no account URL while ${what}`);
    return this.signed(url, payload, { kid: this.accountUrl });
  }

  /**
   * A signed request (with `kid`, or with the account's `jwk` for newAccount), signed again with a fresh nonce when
   * the CA answers
   * - badNonce: at once, with the nonce that came with that answer, up to BAD_NONCE_TRIES times in all. Safe for
   *   every request: a badNonce request was rejected before it was processed.
   * - a server error (5xx): a moment later (its Retry-After up to LONGEST_RETRY_AFTER_S, else 1 s, 2 s, 3 s),
   *   SERVER_ERROR_RETRIES times. It must be signed again: the same JWS would carry a spent nonce, and the CA's
   *   badNonce would hide its real error. After the last round the CA's own answer is returned.
   */
  private async signed(url: string, payload: unknown, options: { kid: string | null; includeExternalAccountBinding?: boolean }): Promise<HttpAnswer> {
    // Before anything is signed or sent: a URL from the CA may point anywhere.
    checkOnCaOrigin(url, this.origins);
    const body = options.includeExternalAccountBinding && this.eab ? { ...(payload as object), externalAccountBinding: externalAccountBinding(this.eab, url, this.signer.jwk) } : payload;
    let [badNonces, serverErrors] = [0, 0];
    for (;;) {
      const nonce = await this.nonces.take(() => this.newNonce());
      const jws = this.signer.sign({ url, nonce, ...(options.kid !== null ? { kid: options.kid } : {}) }, body);
      const answer = await caRequest(url, { method: 'POST', body: JSON.stringify(jws) }, this.transport);
      this.nonces.keep(answer.headers['replay-nonce']);
      if (isBadNonce(answer) && ++badNonces < BAD_NONCE_TRIES) continue;
      const wait = serverErrors < SERVER_ERROR_RETRIES ? serverErrorWaitMs(answer, serverErrors + 1) : undefined;
      if (wait === undefined) return answer;
      serverErrors++;
      await abortableSleep(wait, this.transport.signal);
    }
  }

  /**
   * A fresh nonce from the CA's newNonce resource (RFC 8555 §7.2), for when none is kept. GET (answered 204 No
   * Content) rather than HEAD: a HEAD answer without a Content-Length, as Pebble sends, makes Node close the
   * kept-alive connection, and every newNonce then cost a new TLS handshake.
   */
  private async newNonce(): Promise<string> {
    checkOnCaOrigin(this.directory.newNonce, this.origins);
    const answer = await unsignedRequest(this.directory.newNonce, 'GET', this.transport);
    const nonce = answer.headers['replay-nonce'];
    if (answer.status >= 400 || !isNonce(nonce)) throw new OperationError(`the CA gave no nonce (HTTP ${answer.status} from its newNonce URL ${visibleText(this.directory.newNonce, 300)})`);
    return nonce;
  }
}

/**
 * How many times a request is signed when the CA keeps answering badNonce. A CA that rejects nonces often
 * (Pebble can be told to reject half of them) must not end a run; one that rejects every nonce must.
 */
export const BAD_NONCE_TRIES = 20;

function transportOf(options: { requestTimeoutMs: number; signal?: AbortSignal }): TransportOptions {
  return { requestTimeoutMs: options.requestTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) };
}

function isBadNonce(answer: HttpAnswer): boolean {
  const data = parseJson(answer.data);
  return answer.status === 400 && isAcmeProblem(data) && data.type === 'urn:ietf:params:acme:error:badNonce';
}

// A CA refusing a registration that carried EAB refuses the binding: Pebble says `unauthorized`, others `malformed`.
const EAB_REFUSED_HINT = (type: string): string | undefined =>
  ['unauthorized', 'malformed', 'badSignatureAlgorithm'].includes(shortProblemType(type))
    ? 'the CA did not accept the external account binding: copy --eab-kid and --eab-hmac-key again from the CA (some CAs accept each pair for one account only)'
    : undefined;

/**
 * The answer's body when its status is expected; otherwise the CA's problem (with `hintFor`'s advice, if any) as
 * an error. A 429 or 503 whose Retry-After says when to ask again carries that, with the kind of `request`
 * (requests of an order unless said otherwise), for the rate-limit memory.
 */
function expectStatus(answer: HttpAnswer, expected: number[], what: string, options: { hintFor?: (type: string) => string | undefined; request?: CaRequestKind } = {}): unknown {
  if (expected.includes(answer.status)) return answer.data;
  const data = problemFrom(answer.data);
  const retryAfter = askedToWait(answer, options.request ?? 'order');
  if (data) throw new AcmeProblemError(`the CA refused ${what}`, data, options.hintFor?.(data.type), retryAfter ? { retryAfter } : {});
  throw new CaStatusError(`the CA answered HTTP ${answer.status} while ${what}`, answer.status, retryAfter);
}

function askedToWait(answer: HttpAnswer, request: CaRequestKind): CaRetryAfter | undefined {
  if (answer.status !== 429 && answer.status !== 503) return undefined;
  const until = retryAfterUntil(answer.headers['retry-after'], new Date());
  return until ? { until, status: answer.status, request } : undefined;
}

function parseJson(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/** Reads and checks a directory; a failure says which URL and what to check. */
async function readingDirectory(url: string, read: () => Promise<unknown>): Promise<AcmeDirectory> {
  let directory: unknown;
  try {
    directory = await read();
  } catch (error) {
    if (error instanceof OperationError) throw error;
    throw new OperationError(`the ACME directory at ${url} could not be read: ${(error as Error).message}`, {
      hint: 'check the --server URL: it must be the directory URL of an ACME CA',
      cause: error,
    });
  }
  return checkDirectory(directory, url);
}

function checkDirectory(directory: unknown, url: string): AcmeDirectory {
  const checked = directoryFrom(directory);
  if (!checked) {
    throw new UsageError(`${url} is not an ACME directory (newAccount, newOrder and newNonce are missing)`, {
      hint: 'pass the directory URL of the CA, e.g. https://acme-v02.api.letsencrypt.org/directory',
    });
  }
  return checked;
}
