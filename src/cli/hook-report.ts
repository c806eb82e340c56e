import { describeHookFailure } from '../deploy/hooks.js';
import type { HookOutcome } from '../deploy/hooks.js';
import type { Reporter } from './reporter.js';

/** Each failed hook on stderr (in every mode, -q included): what failed, then the tail of its output. */
export function reportHookFailures(reporter: Reporter, hooks: readonly HookOutcome[]): number {
  const failures = hooks.filter((h) => !h.ok);
  for (const hook of failures) {
    const tail = hook.outputTail.trimEnd();
    reporter.error(new Error(tail ? `${describeHookFailure(hook)}\n${tail.split('\n').map((line) => `    ${line}`).join('\n')}` : describeHookFailure(hook)));
  }
  return failures.length;
}
