/**
 * When a certificate is due for renewal (docs/cli.md#renew): with `--days N`, when fewer than N days are left;
 * otherwise when a third of its lifetime is left, or half of it for lifetimes of 10 days or less
 * (short-lived certificates need more slack). The CA's ARI window (RFC 9773), when stored, takes precedence
 * over the lifetime rule: see renewal-decision.ts.
 */
export interface DueInput {
  notBefore: Date;
  notAfter: Date;
  now: Date;
  days?: number;
}

const DAY_MS = 86_400_000;

export function renewalTime(input: Omit<DueInput, 'now'>): Date {
  if (input.days !== undefined) return new Date(input.notAfter.getTime() - input.days * DAY_MS);
  const lifetime = input.notAfter.getTime() - input.notBefore.getTime();
  const share = lifetime <= 10 * DAY_MS ? 1 / 2 : 1 / 3;
  return new Date(input.notAfter.getTime() - lifetime * share);
}

export function isDue(input: DueInput): boolean {
  return input.now.getTime() >= renewalTime(input).getTime();
}

export function daysLeft(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}
