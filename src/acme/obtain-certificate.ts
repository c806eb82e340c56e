import { abortedError, OperationError } from '../domain/errors.js';
import type { ProgressListener } from '../domain/events.js';
import type { Identifier } from '../domain/identifiers.js';
import type { Http01Challenge, Http01Solver } from '../domain/http01.js';
import { isValidToken } from '../domain/http01.js';
import { checkAuthorizationIdentifier, checkOrderIdentifiers } from './acme-objects.js';
import { downloadChain } from './chains.js';
import { checkIssuedCertificate } from './leaf-check.js';
import type { AcmeAuthorization, AcmeOrder, CaClient } from './client.js';
import { createCsrDer } from '../pki/csr.js';
import { keyAuthorization } from '../pki/keys.js';
import { pollUntil } from './polling.js';
import type { PollResult } from './polling.js';
import { visibleText } from '../domain/visible-text.js';
import { AcmeProblemError, describeProblem, isAcmeProblem } from './problem.js';
import { shortProblemType } from '../domain/problem-type.js';
import type { AcmeSubproblem } from './problem.js';

export interface ObtainRequest {
  identifiers: Identifier[];
  /** The CA's certificate profile, or null/absent for its default. */
  profile?: string | null;
  /** The new certificate's private key (PEM); the CSR is made from it. */
  certificateKeyPem: string;
  accountKeyPem: string;
  solver: Http01Solver;
  /** Epoch ms: validation and issuance together must finish by then. */
  deadline: number;
  signal?: AbortSignal;
  progress: ProgressListener;
  /** Issuer CN of the top certificate of the chain wanted, when the CA offers several; null takes the default. */
  preferredChain: string | null;
  /** The CertID of the certificate this order replaces (RFC 9773 §5), on a renewal at a CA with ARI. */
  replaces?: string | null;
}

export interface ObtainedCertificate {
  /** Leaf first, then the chain chosen (the CA's default unless preferredChain picked an alternate). */
  chainPem: string;
  /** The issuer CN of the chain's topmost certificate. */
  topIssuer: string;
  orderUrl: string;
  /** For the user (the preferred chain not offered, alternates ignored); the certificate is fine. */
  warnings: string[];
}

const settledStatus = (status: string): boolean => status !== 'pending' && status !== 'processing';

/**
 * One ACME order from start to certificate: new order, every authorization presented and answered in
 * parallel, polling, finalize with a CSR from the given key, download. Every presented challenge is
 * cleaned up whether or not validation succeeded.
 */
export async function obtainCertificate(ca: CaClient, request: ObtainRequest): Promise<ObtainedCertificate> {
  const { progress, signal, deadline } = request;
  progress({ step: 'order', phase: 'start', message: 'creating the order' });
  const warnings: string[] = [];
  const created = await newOrder(ca, request, warnings).catch((error: unknown) => {
    throw withIpProfileHint(error, ca, request);
  });
  let order = created.order;
  checkOrderIdentifiers(order, request.identifiers);
  const replacing = created.replaces ? `, replacing ${created.replaces}` : '';
  progress({ step: 'order', phase: 'done', message: `order created for ${request.identifiers.map((i) => i.value).join(', ')}${replacing}` });

  await validateAuthorizations(ca, order, request);

  const poll = { deadline, signal };
  order = await pollUntil(() => ca.getOrder(order.url), (o) => settledStatus(o.status), { ...poll, what: 'the order to become ready' });
  if (order.status !== 'ready' && order.status !== 'valid') throw orderFailure(order, 'the order did not become ready');

  progress({ step: 'finalize', phase: 'start', message: 'finalizing' });
  if (order.status === 'ready') {
    const csr = await createCsrDer(request.identifiers, request.certificateKeyPem);
    // The finalize answer is the first check: a CA still processing says with its Retry-After when to look
    // again (RFC 8555 §7.4), and the first poll waits for that too.
    let answered: PollResult<AcmeOrder> | undefined = await ca.finalize(order, csr);
    const orderUrl = order.url;
    order = await pollUntil(
      async () => {
        const check = answered ?? (await ca.getOrder(orderUrl));
        answered = undefined;
        return check;
      },
      (o) => settledStatus(o.status),
      { ...poll, what: 'the certificate to be issued' },
    );
  }
  if (order.status !== 'valid' || !order.certificate) throw orderFailure(order, 'the CA did not issue the certificate');
  progress({ step: 'finalize', phase: 'done', message: 'certificate issued' });

  progress({ step: 'download', phase: 'start', message: 'downloading the certificate' });
  const chain = await downloadChain(ca, order.certificate, request.preferredChain);
  checkIssuedCertificate(chain.pem, { keyPem: request.certificateKeyPem, identifiers: request.identifiers, now: new Date() });
  const detail = request.preferredChain === null ? '' : chain.topIssuer === request.preferredChain ? ` (the chain to "${chain.topIssuer}", as preferred)` : ` (the default chain, to "${chain.topIssuer}")`;
  progress({ step: 'download', phase: 'done', message: `certificate downloaded${detail}` });
  return { chainPem: chain.pem, topIssuer: chain.topIssuer, orderUrl: order.url, warnings: [...warnings, ...chain.warnings] };
}

/**
 * The order, naming the certificate it replaces when there is one. A CA that refuses `replaces` because the
 * certificate was already replaced (another renewal of it got there first, e.g. a host restored from a backup)
 * or because another account obtained it is asked once more without it: the certificate is still needed.
 */
async function newOrder(ca: CaClient, request: ObtainRequest, warnings: string[]): Promise<{ order: AcmeOrder; replaces: string | null }> {
  const profile = request.profile ?? null;
  if (!request.replaces) return { order: await ca.newOrder(request.identifiers, { profile }), replaces: null };
  try {
    return { order: await ca.newOrder(request.identifiers, { profile, replaces: request.replaces }), replaces: request.replaces };
  } catch (error) {
    if (!(error instanceof AcmeProblemError) || !refusesReplaces(error)) throw error;
    warnings.push(`the CA refused to let the new certificate replace the old one (${visibleText(describeProblem(error.problem), 300)}); ordered it without "replaces"`);
    return { order: await ca.newOrder(request.identifiers, { profile }), replaces: null };
  }
}

/** alreadyReplaced, or unauthorized/malformed saying the certificate belongs to another account. */
export function refusesReplaces(error: AcmeProblemError): boolean {
  const type = shortProblemType(error.problem.type);
  if (type === 'alreadyReplaced') return true;
  const detail = String(error.problem.detail ?? '');
  return (type === 'unauthorized' || type === 'malformed') && /account/i.test(detail) && /(replac|issued|request|own)/i.test(detail);
}

async function validateAuthorizations(ca: CaClient, order: AcmeOrder, request: ObtainRequest): Promise<void> {
  const { progress, solver } = request;
  const authorizations = await Promise.all(order.authorizations.map(async (url) => (await ca.getAuthorization(url)).value));
  for (const authz of authorizations) checkAuthorizationIdentifier(authz, request.identifiers);
  const pending = authorizations.filter((authz) => {
    if (authz.status !== 'valid') return true;
    progress({ step: 'authorization', phase: 'done', id: authz.identifier.value, message: `${authz.identifier.value} already validated` });
    return false;
  });
  const work = pending.map((authz) => ({ authz, challenge: pickHttp01(authz, request.accountKeyPem) }));
  const presented: Http01Challenge[] = [];
  try {
    // allSettled, not all: cleanup must not start while another present() is still writing.
    const presenting = await Promise.allSettled(
      work.map(async ({ authz, challenge }) => {
        progress({ step: 'authorization', phase: 'start', id: authz.identifier.value, message: `validating ${authz.identifier.value}` });
        presented.push(challenge.answer);
        await solver.present(challenge.answer);
      }),
    );
    const notPresented = presenting.find((p): p is PromiseRejectedResult => p.status === 'rejected');
    if (notPresented) throw notPresented.reason;
    // Interrupted while the answers were being put in place: do not ask the CA to validate them.
    if (request.signal?.aborted) throw abortedError(request.signal, 'before the validation');
    const outcomes = await Promise.allSettled(
      work.map(async ({ authz, challenge }) => {
        await ca.respondToChallenge(challenge.url);
        const settled = await pollUntil(() => ca.getAuthorization(authz.url), (a) => settledStatus(a.status), {
          deadline: request.deadline,
          signal: request.signal,
          what: `the validation of ${authz.identifier.value}`,
        });
        if (settled.status !== 'valid') throw authorizationFailure(settled, solver);
        progress({ step: 'authorization', phase: 'done', id: authz.identifier.value, message: `${authz.identifier.value} validated` });
      }),
    );
    const failures = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ authz: work[i]!.authz, reason: o.reason as unknown }] : []));
    for (const { authz } of failures) {
      progress({ step: 'authorization', phase: 'failed', id: authz.identifier.value, message: `${authz.identifier.value} not validated` });
    }
    if (failures.length === 1) throw failures[0]!.reason;
    if (failures.length > 1) throw combinedFailure(failures);
  } finally {
    await Promise.allSettled(presented.map((answer) => solver.cleanUp(answer)));
  }
}

function pickHttp01(authz: AcmeAuthorization, accountKeyPem: string): { url: string; answer: Http01Challenge } {
  const challenge = authz.challenges.find((c) => c.type === 'http-01');
  if (!challenge) {
    const offered = visibleText(authz.challenges.map((c) => c.type).join(', '), 300) || 'none';
    throw new OperationError(`the CA offers no http-01 challenge for ${authz.identifier.value} (offered: ${offered})`);
  }
  if (!isValidToken(challenge.token)) {
    throw new OperationError(`the CA sent a malformed http-01 token for ${authz.identifier.value}; refusing to use it`);
  }
  return {
    url: challenge.url,
    answer: { identifier: authz.identifier.value, token: challenge.token, keyAuthorization: keyAuthorization(challenge.token, accountKeyPem) },
  };
}

/**
 * The reason the CA gave for a failed authorization, from the failed challenge's error, with the solver's
 * advice for this way of answering. The message names the identifier already, so no subproblem repeats it.
 */
function authorizationFailure(authz: AcmeAuthorization, solver: Http01Solver): Error {
  const failed = authz.challenges.find((c) => c.type === 'http-01' && c.error) ?? authz.challenges.find((c) => c.error);
  const problem = failed?.error;
  const context = `validation of ${authz.identifier.value} failed`;
  if (isAcmeProblem(problem)) {
    const hint = solver.hintFor?.({ type: problem.type, identifier: authz.identifier.value, ...(problem.detail ? { detail: problem.detail } : {}) });
    return new AcmeProblemError(context, problem, hint);
  }
  return new OperationError(`${context}: the authorization is ${authz.status}`);
}

/** Several names failed: one error whose subproblems say, per identifier, what went wrong. */
function combinedFailure(failures: { authz: AcmeAuthorization; reason: unknown }[]): Error {
  const subproblems: AcmeSubproblem[] = failures.map(({ authz, reason }) => {
    if (reason instanceof AcmeProblemError) return { type: reason.problem.type, detail: reason.problem.detail, identifier: authz.identifier };
    return { type: 'error', detail: reason instanceof Error ? reason.message : String(reason), identifier: authz.identifier };
  });
  const first = failures[0]!.reason;
  const type = first instanceof AcmeProblemError ? first.problem.type : 'urn:ietf:params:acme:error:malformed';
  const hint = first instanceof AcmeProblemError ? first.hint : undefined;
  return new AcmeProblemError(`validation failed for ${failures.length} names`, { type, detail: 'see each name below', subproblems }, hint);
}

function orderFailure(order: AcmeOrder, context: string): Error {
  if (isAcmeProblem(order.error)) return new AcmeProblemError(context, order.error);
  return new OperationError(`${context}: the order is ${order.status}`);
}

// Let's Encrypt issues certificates for IP addresses only in its short-lived profile, and says so only in words.
const IP_REFUSALS = new Set(['rejectedIdentifier', 'unsupportedIdentifier', 'malformed']);

/**
 * A CA that offers profiles and refuses an order for an IP address made without one: the hint names the
 * short-lived profile (RFC 8738 identifiers are issued only there at Let's Encrypt).
 */
function withIpProfileHint(error: unknown, ca: CaClient, request: ObtainRequest): unknown {
  if (!(error instanceof AcmeProblemError) || request.profile || !IP_REFUSALS.has(shortProblemType(error.problem.type))) return error;
  if (!request.identifiers.some((i) => i.type === 'ip')) return error;
  const profiles = Object.keys(ca.directory.meta?.profiles ?? {});
  if (profiles.length === 0) return error;
  const shortlived = profiles.find((name) => name === 'shortlived');
  return error.withHint(
    shortlived
      ? 'this CA issues certificates for IP addresses only in a short-lived profile (Let\'s Encrypt: shortlived): add --profile shortlived'
      : `this CA may issue certificates for IP addresses only in one of its profiles (${profiles.join(', ')}): add --profile NAME (acmectl ca describes them)`,
  );
}
