import { randomInt } from 'node:crypto';
import type { CertificateRecord, StoredRenewalInfo } from './certificate-record.js';
import { renewalTime } from './renewal-window.js';

/**
 * Whether a certificate is due, and why (docs/cli.md#renew, RFC 9773): revoked or expired → due now; `--days N` wins
 * over everything else; then the CA's renewal window (ARI) when one is stored for this version; else the
 * lifetime rule (a third left, half for 10 days or less).
 */
export type DueRule = 'revoked' | 'expired' | 'days' | 'ari' | 'lifetime';

export interface RenewalDecision {
  due: boolean;
  rule: DueRule;
  /** When it is (or was) due. */
  renewalTime: Date;
  /** "due: inside the CA's renewal window (ARI)", "not due: ...": for the renew log. */
  reason: string;
}

export interface DecisionInput {
  notBefore: Date;
  notAfter: Date;
  now: Date;
  days?: number;
  revoked: boolean;
  /** The stored ARI info; ignored unless it is about this serial. */
  renewalInfo?: StoredRenewalInfo | undefined;
  serial: string;
}

export function renewalDecision(input: DecisionInput): RenewalDecision {
  const { now, notBefore, notAfter } = input;
  if (input.revoked) return { due: true, rule: 'revoked', renewalTime: now, reason: 'due: revoked' };
  if (now >= notAfter) return { due: true, rule: 'expired', renewalTime: notAfter, reason: 'due: expired' };
  if (input.days !== undefined) {
    const at = renewalTime({ notBefore, notAfter, days: input.days });
    const due = now >= at;
    return { due, rule: 'days', renewalTime: at, reason: due ? `due: fewer than ${input.days} days left (--days)` : `not due: more than ${input.days} days left (--days)` };
  }
  const ari = input.renewalInfo?.serial === input.serial ? input.renewalInfo : undefined;
  if (ari) {
    const at = new Date(ari.renewAt);
    // A window already over means renew now, whatever moment was chosen in it.
    const due = now >= at || now >= new Date(ari.windowEnd);
    return { due, rule: 'ari', renewalTime: at, reason: due ? "due: inside the CA's renewal window (ARI)" : "not due: the CA's renewal window (ARI) has not come" };
  }
  const at = renewalTime({ notBefore, notAfter });
  const due = now >= at;
  const share = notAfter.getTime() - notBefore.getTime() <= 10 * 86_400_000 ? 'half' : 'a third';
  return { due, rule: 'lifetime', renewalTime: at, reason: due ? `due: ${share} of the lifetime left` : `not due: more than ${share} of the lifetime left` };
}

/** The decision for a stored certificate's current version. */
export function recordDecision(record: CertificateRecord, now: Date, days?: number): RenewalDecision {
  return renewalDecision({
    notBefore: new Date(record.current.notBefore),
    notAfter: new Date(record.current.notAfter),
    now,
    revoked: record.current.revoked !== undefined,
    serial: record.current.serial,
    renewalInfo: record.renewalInfo,
    ...(days === undefined ? {} : { days }),
  });
}

/**
 * The moment to renew inside a window: uniformly random (RFC 9773 §4.2, so that a CA's many clients spread
 * out), but kept when the window is the one already stored: a run twice a day must not re-roll it each time.
 * A window that is over gives its end (renew now).
 */
export function chooseRenewalMoment(window: { start: Date; end: Date }, previous: StoredRenewalInfo | undefined, random: (span: number) => number = randomSpan): Date {
  if (previous && previous.windowStart === window.start.toISOString() && previous.windowEnd === window.end.toISOString()) return new Date(previous.renewAt);
  const span = window.end.getTime() - window.start.getTime();
  return new Date(window.start.getTime() + random(span));
}

/** A whole number of milliseconds in [0, span). */
function randomSpan(span: number): number {
  if (span <= 1) return 0;
  // randomInt takes ranges below 2^48; windows are days, never that long, but cap to be safe.
  return randomInt(Math.min(span, 2 ** 48 - 1));
}
