/**
 * Progress of a long operation, emitted by core/acme and rendered by the reporter at the edge
 * (spinners on a terminal, one line per event in cron, nothing with -q).
 */
export type ProgressStep = 'account' | 'order' | 'authorization' | 'finalize' | 'download' | 'store' | 'export' | 'hooks' | 'preflight';

export interface ProgressEvent {
  step: ProgressStep;
  /** `warned`: done, with something the user should know (said as a warning). */
  phase: 'start' | 'done' | 'warned' | 'failed';
  /** Distinguishes concurrent events of one step, e.g. the identifier of an authorization. */
  id?: string;
  /** The certificate the event belongs to (a run may renew several at once). */
  certificate?: string;
  /** A short human sentence: "validating example.com", "certificate stored". */
  message: string;
}

export type ProgressListener = (event: ProgressEvent) => void;

export const ignoreProgress: ProgressListener = () => {};
