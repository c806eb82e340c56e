import type { ChallengeMethod } from './choices.js';

/** How this host answered the challenge: what a hint about a failed validation has to talk about. */
export type AnswerSource = { method: 'standalone'; port: number } | { method: 'webroot'; webroot: string } | { method: 'store' };

/** A failed HTTP-01 validation as the CA reported it. */
export interface ValidationFailure {
  /** Problem type, as the CA sent it (URN or short name). */
  type: string;
  identifier: string;
  detail?: string;
}

/** The settings that decide how a certificate's challenges are answered (a part of its renewal settings). */
export interface SolverSettings {
  challenge: ChallengeMethod;
  httpPort: number;
  httpAddress: string | null;
  webroot: string | null;
}

/** One HTTP-01 challenge to answer: GET /.well-known/acme-challenge/<token> must return keyAuthorization. */
export interface Http01Challenge {
  /** The identifier being validated (a DNS name or IP address), for messages. */
  identifier: string;
  /** Checked against TOKEN_PATTERN before any solver sees it. */
  token: string;
  keyAuthorization: string;
}

/**
 * Answers HTTP-01 challenges (standalone server, webroot files, or the store-publishing wrapper).
 *
 * Contract: `present` resolves once the CA can fetch the token; `cleanUp` removes it and is called for
 * every challenge that was presented — also when presenting or validation failed — and is idempotent.
 * Several challenges may be presented concurrently. `close` releases whatever the solver holds (listeners).
 */
export interface Http01Solver {
  /** Where answers are served, for messages: "standalone server on port 80", "webroot /var/www". */
  readonly description: string;
  present(challenge: Http01Challenge): Promise<void>;
  /**
   * Checks, before an order is created (orders count against the CA's rate limits), that answers can be
   * served: the standalone server can bind its port. Throws the error present() would throw.
   */
  checkReady?(): Promise<void>;
  /** What to check when the CA could not validate a challenge this solver presented (see validation-hints.ts). */
  hintFor?(failure: ValidationFailure): string | undefined;
  cleanUp(challenge: Http01Challenge): Promise<void>;
  close(): Promise<void>;
}

/** RFC 8555 §8.3: a token is base64url; nothing else may become a path or a URL (docs/cli.md#data-safety). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]+$/;

export const CHALLENGE_PATH_PREFIX = '/.well-known/acme-challenge/';

export function isValidToken(token: unknown): token is string {
  return typeof token === 'string' && token.length <= 256 && TOKEN_PATTERN.test(token);
}
