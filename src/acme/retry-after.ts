/**
 * The Retry-After header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. A CA sends it while an order or
 * authorization is processing (how long to wait before polling again), with 503 (come back later) and with 429
 * (rate limited: when the limit lets this request through again).
 */

/** The longest wait a CA's Retry-After is taken for: a broken "come back in a year" must not silence renewals that long. */
export const LONGEST_REMEMBERED_WAIT_MS = 7 * 86_400_000;

// The three forms RFC 9110 §5.6.7 requires recipients to accept, all in GMT.
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * Milliseconds from `now` that a Retry-After header asks to wait: 0 for a date already past; undefined when the
 * header is absent or is neither delay-seconds nor an HTTP-date (a negative number, "soon", a bare year: what
 * `Date.parse` would guess at is not taken).
 */
export function parseRetryAfter(header: unknown, now: number = Date.now()): number | undefined {
  if (typeof header !== 'string') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  let date = Number.NaN;
  if (IMF_FIXDATE.test(value) || RFC850_DATE.test(value)) date = Date.parse(value);
  // asctime carries no zone, and Date.parse would read it as local time.
  else if (ASCTIME_DATE.test(value)) date = Date.parse(`${value} GMT`);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Until when the CA asked not to be asked again, or undefined when it said nothing usable (no header, garbage, a
 * time already past). Rounded up to the whole second (what the header can say) and capped at
 * LONGEST_REMEMBERED_WAIT_MS.
 */
export function retryAfterUntil(header: unknown, now: Date): Date | undefined {
  const waitMs = parseRetryAfter(header, now.getTime());
  if (waitMs === undefined || waitMs <= 0) return undefined;
  const until = now.getTime() + Math.min(waitMs, LONGEST_REMEMBERED_WAIT_MS);
  return new Date(Math.ceil(until / 1000) * 1000);
}

/** The ACME request a CA answered with a Retry-After: it decides what the wait applies to (see core/rate-limit-memory.ts). */
export type CaRequestKind = 'newAccount' | 'newOrder' | 'order' | 'revokeCert';

/** A CA refused a request (429, or 503) and said when to ask again. */
export interface CaRetryAfter {
  until: Date;
  /** The HTTP status: 429 (rate limited) or 503 (unavailable). */
  status: number;
  request: CaRequestKind;
}
