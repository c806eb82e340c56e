import type { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason } from 'vitest/node';

import { takeLeftoverReport } from './temp-guard.js';

/**
 * Ends the run with one plain line, "N passed, N failed, N skipped", which CI reads as the verdict. Temp entries
 * the run left behind (see temp-guard.ts) are listed above it and count as one failure.
 *
 * A test that could not run because a beforeAll of its file or describe threw (a server that could not be
 * installed or started) is a failure, not a skip, although vitest reports it as skipped: the line then says
 * "N failed (M could not run: setup failed in FILE, ...)". Errors thrown outside any test (an unhandled
 * rejection, a throwing timer) count as failures too, and so does a run that failed with no test to blame (a
 * global setup that threw): vitest exits non-zero for them, and the line must not say "0 failed" then.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    let couldNotRun = 0;
    const setupFailedIn = new Set<string>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else if (state === 'skipped' && setupFailedAround(test)) {
          counts.failed++;
          couldNotRun++;
          setupFailedIn.add(module.relativeModuleId);
        } else counts.skipped++;
      }
      if (module.state() === 'failed' && module.children.size === 0) counts.failed++; // a file that failed to load
    }
    const leftovers = takeLeftoverReport();
    if (leftovers !== undefined) {
      process.stdout.write(`\n${leftovers}\n`);
      counts.failed++;
      process.exitCode = 1;
    }
    const notes: string[] = [];
    if (couldNotRun > 0) notes.push(`${couldNotRun} could not run: setup failed in ${[...setupFailedIn].sort().join(', ')}`);
    if (unhandledErrors.length > 0) {
      counts.failed += unhandledErrors.length;
      notes.push(`${unhandledErrors.length} ${unhandledErrors.length === 1 ? 'error' : 'errors'} outside any test`);
    }
    if (reason === 'failed' && counts.failed === 0) {
      counts.failed++;
      notes.push('the run failed outside the tests: see its error');
    }
    if (notes.length > 0) process.exitCode = 1;
    const said = notes.length > 0 ? ` (${notes.join('; ')})` : '';
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed${said}, ${counts.skipped} skipped\n`);
  }
}

/**
 * True for a test that was meant to run (not skipped or todo by its own options) inside a file or describe whose own hooks
 * failed: vitest records a beforeAll error on that suite and skips everything in it.
 */
function setupFailedAround(test: TestCase): boolean {
  if (test.options.mode === 'skip' || test.options.mode === 'todo') return false;
  for (let scope: TestCase['parent'] | undefined = test.parent; scope !== undefined; scope = scope.type === 'module' ? undefined : scope.parent) {
    if (scope.errors().length > 0) return true;
  }
  return false;
}
