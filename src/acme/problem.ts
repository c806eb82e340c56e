import { OperationError } from '../domain/errors.js';
import { shortProblemType } from '../domain/problem-type.js';
import { visibleText } from '../domain/visible-text.js';
import type { CaRetryAfter } from './retry-after.js';

/** An RFC 7807 problem document as ACME uses it (RFC 8555 §6.7), including per-identifier subproblems. */
export interface AcmeProblem {
  type: string;
  detail?: string;
  status?: number;
  subproblems?: AcmeSubproblem[];
}

export interface AcmeSubproblem {
  type: string;
  detail?: string;
  identifier?: { type: string; value: string };
}


/**
 * Advice for the problems users meet most, keyed by the short type name: only those that mean the same in
 * every request. Validation failures get their advice from the solver that answered (validation-hints.ts);
 * `unauthorized` at registration means the EAB credentials (client.ts).
 */
const HINTS: Record<string, string> = {
  rateLimited: "the CA's rate limit was reached: wait before retrying, and use --server letsencrypt-staging while testing",
  externalAccountRequired: 'this CA requires external account binding: get a key id and HMAC key from the CA and pass --eab-kid and --eab-hmac-key',
  rejectedIdentifier: 'the CA will not issue for one of these names',
  caa: "a CAA DNS record forbids this CA from issuing for the name",
  badCSR: 'the CA refused the certificate request',
  userActionRequired: 'the CA requires an action on its website (e.g. accepting new terms of service)',
};


/** "unauthorized: Account has been deactivated": the short type and the detail, for messages. */
export function describeProblem(problem: AcmeProblem): string {
  return `${shortProblemType(problem.type)}${problem.detail ? `: ${problem.detail}` : ''}`;
}

/** True when the value looks like a problem document. */
export function isAcmeProblem(value: unknown): value is AcmeProblem {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/**
 * A CA answered with a problem document. The document travels intact (type, detail, subproblems) so the
 * reporter can show each identifier's own reason; the message is a readable one-line summary.
 */
export class AcmeProblemError extends OperationError {
  readonly problem: AcmeProblem;
  /** When the CA answered 429 or 503 and said, with Retry-After, when to ask again. */
  readonly retryAfter: CaRetryAfter | undefined;
  private readonly context: string;

  constructor(context: string, problem: AcmeProblem, hint?: string, options: { retryAfter?: CaRetryAfter } = {}) {
    const detail = problem.detail ? `: ${visibleText(String(problem.detail))}` : '';
    super(`${context}: ${visibleText(shortProblemType(String(problem.type)), 200)}${detail}`, { hint: hint ?? HINTS[shortProblemType(problem.type)] });
    this.problem = problem;
    this.context = context;
    this.retryAfter = options.retryAfter;
  }

  /** The same refusal with other advice: once acmectl has remembered the CA's Retry-After, it says what it will do. */
  withHint(hint: string): AcmeProblemError {
    return new AcmeProblemError(this.context, this.problem, hint, this.retryAfter ? { retryAfter: this.retryAfter } : {});
  }

  /** Lines describing each subproblem, e.g. "www.example.com: dns: NXDOMAIN looking up A". */
  subproblemLines(): string[] {
    return (this.problem.subproblems ?? []).map((sub) => {
      const who = sub.identifier ? `${visibleText(String(sub.identifier.value), 300)}: ` : '';
      const detail = sub.detail ? `: ${visibleText(String(sub.detail))}` : '';
      return `${who}${visibleText(shortProblemType(String(sub.type)), 200)}${detail}`;
    });
  }
}

/** The CA answered an unexpected HTTP status without a problem document (e.g. a load balancer's 503 page). */
export class CaStatusError extends OperationError {
  constructor(
    message: string,
    readonly status: number,
    /** When it was a 429 or 503 that said, with Retry-After, when to ask again. */
    readonly retryAfter?: CaRetryAfter,
    hint?: string,
  ) {
    super(message, hint === undefined ? {} : { hint });
  }

  withHint(hint: string): CaStatusError {
    return new CaStatusError(this.message, this.status, this.retryAfter, hint);
  }
}

/** What a CA's refusal said about when to ask again (429, or 503 with Retry-After), if anything. */
export function retryAfterOf(error: unknown): CaRetryAfter | undefined {
  return error instanceof AcmeProblemError || error instanceof CaStatusError ? error.retryAfter : undefined;
}
