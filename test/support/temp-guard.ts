// vitest globalSetup: the run fails when it leaves anything behind in the temp directory.
//
// The temp directory (/tmp, or $TMPDIR) is shared: other test runs and scripts on the machine create acmectl-*
// entries there at the same time, so comparing its listing before and after would blame this run for theirs.
// Instead the run gets a TMPDIR of its own, `<os.tmpdir()>/acmectl-test-run-XXXXXX`: the workers inherit it (they
// are started after globalSetup, with its process.env), and so do the servers and commands the tests start with
// the inherited environment. Everything in it at the end was made by this run and not removed.
import { chmodSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface GuardState {
  root: string;
  /** Set once the leftovers were printed (by the summary reporter), so teardown does not print them again. */
  reported: boolean;
}

// Reporters and globalSetup files may be loaded as separate module instances; this key is shared.
const STATE = Symbol.for('acmectl.tempGuard');
const shared = globalThis as { [STATE]?: GuardState };

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'acmectl-test-run-'));
  // nginx's workers run as `nobody` when the tests run as root; they must traverse this to reach webroots.
  chmodSync(root, 0o755);
  const previous = process.env['TMPDIR'];
  process.env['TMPDIR'] = root;
  shared[STATE] = { root, reported: false };

  return function teardown(): void {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
    const state = shared[STATE];
    delete shared[STATE];
    const message = leftoverMessage(root);
    if (message === undefined) {
      rmdirSync(root);
      return;
    }
    // vitest 4 only logs an error thrown here ("error during close") and still exits 0; the exit code is ours to set.
    process.exitCode = 1;
    if (!state?.reported) process.stderr.write(`\n${message}\n`);
  };
}

/**
 * For the summary reporter, once the tests are done: the message naming what the run left behind (and marks it
 * printed), or undefined when nothing is left or the guard is not set up.
 */
export function takeLeftoverReport(): string | undefined {
  const state = shared[STATE];
  if (state === undefined) return undefined;
  const message = leftoverMessage(state.root);
  if (message !== undefined) state.reported = true;
  return message;
}

function leftoverMessage(root: string): string | undefined {
  const leftovers = readdirSync(root).sort();
  if (leftovers.length === 0) return undefined;
  return [
    `FAIL temp guard: the test run left ${leftovers.length} ${leftovers.length === 1 ? 'entry' : 'entries'} in its temp directory (kept for inspection):`,
    ...leftovers.map((name) => `  ${join(root, name)}`),
    'Make temporary directories with tempDir() from test/support/temp-dir.ts, and stop every server a test starts.',
  ].join('\n');
}
