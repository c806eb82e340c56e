import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './cli.js';
import { tempDir } from './temp-dir.js';

const VITEST = join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const CONFIG = 'test/support/fixtures/summary-reporter/vitest.config.ts';
const FIXTURES = 'test/support/fixtures/summary-reporter';

/**
 * Runs a child vitest on the fixture files whose names contain one of `filters`, with the summary reporter;
 * with `globalSetupFails`, its global setup throws first.
 */
function runFixtures(filters: string[], { globalSetupFails = false } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  // Nothing of this vitest worker's own environment (VITEST_POOL_ID and the like) leaks into the child run.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  env['ACMECTL_FIXTURE_CACHE_DIR'] = tempDir('fixture-cache');
  env['NO_COLOR'] = '1';
  if (globalSetupFails) env['ACMECTL_FIXTURE_GLOBAL_SETUP_FAILS'] = '1';
  return new Promise((resolve) => {
    execFile(process.execPath, [VITEST, 'run', '--config', CONFIG, ...filters], { cwd: REPO_ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const closingLine = (stdout: string): string => stdout.trimEnd().split('\n').at(-1)!;

describe('the summary reporter', () => {
  it('counts tests whose beforeAll failed as failed (could not run), naming the files, and the run exits non-zero', async () => {
    // setup-fails: the file's beforeAll throws before its 2 tests. describe-setup-fails: one test passes, one is
    // skipped on purpose, and a describe's beforeAll throws before its 1 test.
    const run = await runFixtures(['setup-fails']);
    expect(closingLine(run.stdout), run.stdout + run.stderr).toBe(
      `1 passed, 3 failed (3 could not run: setup failed in ${FIXTURES}/describe-setup-fails.fixture.ts, ${FIXTURES}/setup-fails.fixture.ts), 1 skipped`,
    );
    expect(run.code).not.toBe(0);
  });

  it('says "0 failed" and exits 0 when every setup worked', async () => {
    const run = await runFixtures(['passes']);
    expect(closingLine(run.stdout), run.stdout + run.stderr).toBe('1 passed, 0 failed, 0 skipped');
    expect(run.code).toBe(0);
  });

  it('counts an error thrown outside any test as a failure, though every test passed', async () => {
    const run = await runFixtures(['unhandled-error']);
    expect(closingLine(run.stdout), run.stdout + run.stderr).toBe('1 passed, 1 failed (1 error outside any test), 0 skipped');
    expect(run.code).not.toBe(0);
  });

  it('does not say "0 failed" when the run failed before any test (a global setup threw)', async () => {
    const run = await runFixtures(['passes'], { globalSetupFails: true });
    expect(run.stderr).toContain('the global setup failed (on purpose)');
    expect(closingLine(run.stdout), run.stdout + run.stderr).toBe('0 passed, 1 failed (the run failed outside the tests: see its error), 0 skipped');
    expect(run.code).not.toBe(0);
  });
});
