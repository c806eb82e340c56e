import type { Reporter, TestModule } from 'vitest/node';

import { takeLeftoverReport } from './temp-guard.js';

/**
 * Ends the run with one plain line, "N passed, N failed, N skipped", which CI reads as the verdict. Temp entries
 * the run left behind (see temp-guard.ts) are listed above it and count as one failure.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else counts.skipped++;
      }
      if (module.state() === 'failed' && module.children.size === 0) counts.failed++; // a file that failed to load
    }
    const leftovers = takeLeftoverReport();
    if (leftovers !== undefined) {
      process.stdout.write(`\n${leftovers}\n`);
      counts.failed++;
      process.exitCode = 1;
    }
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
