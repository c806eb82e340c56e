/** One finding of `acmectl doctor` (docs/cli.md#doctor): a plain verdict, what was seen, and what to do. */
export type Verdict = 'ok' | 'warn' | 'fail';

export interface Check {
  /** What was checked: `ca`, `clock`, `store`, `http-port`, `webroot`, `serve`, `hooks`, `out-dir`. */
  name: string;
  /** The certificate the check is about, or null for a check of this machine. */
  certificate: string | null;
  verdict: Verdict;
  detail: string;
  /** What to do about it; null when nothing is to be done. */
  fix: string | null;
}

export const ok = (name: string, certificate: string | null, detail: string): Check => ({ name, certificate, verdict: 'ok', detail, fix: null });
export const warn = (name: string, certificate: string | null, detail: string, fix: string | null): Check => ({ name, certificate, verdict: 'warn', detail, fix });
export const fail = (name: string, certificate: string | null, detail: string, fix: string): Check => ({ name, certificate, verdict: 'fail', detail, fix });

/** Warnings do not fail: only a failed check makes doctor exit 1. */
export function anyFailed(checks: readonly Check[]): boolean {
  return checks.some((check) => check.verdict === 'fail');
}
