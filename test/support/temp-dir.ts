// The one way tests make temporary directories: each is removed when the scope that made it ends, pass or fail.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, TestRunner, type RunnerTestFile } from 'vitest';

/**
 * Makes `<os.tmpdir()>/acmectl-<prefix>-XXXXXX` (mode 0700, like mkdtemp) and returns its path. It is removed
 * (recursively, forced) when the scope that called tempDir() ends, whether its tests pass, fail or skip:
 *
 * - in a test, beforeEach or afterEach: when that test finishes (the test's onTestFinished);
 * - at file scope or in a describe body: after that file's or describe's tests and afterAll hooks. Those calls
 *   run while vitest collects the tests, so the path is returned at once but the directory is only created in a
 *   beforeAll of that scope, registered by the call: a suite that is skipped or filtered out creates nothing (no
 *   hook of it would run to remove it). Use it in hooks registered after the call and in tests, not while
 *   collecting;
 * - in a beforeAll hook, or in a describe's afterAll: after the file's tests and afterAll hooks.
 *
 * Throws, creating nothing, where vitest offers no hook that would still remove it: in the file's own afterAll
 * hooks, in onTestFinished/onTestFailed callbacks, in concurrent tests (vitest cannot tell which of them is
 * calling: make one directory at file scope and mkdtemp below it; once vitest has lost track of the running test,
 * the call is taken for a hook's and removed after the file), and outside a vitest test file.
 * To change the directory's mode, chmod it after the call (not at collection time: it does not exist yet).
 */
export function tempDir(prefix: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(prefix)) {
    throw new Error(`tempDir(): the prefix must be lowercase letters, digits and dashes, not ${JSON.stringify(prefix)}`);
  }
  const template = join(tmpdir(), `acmectl-${prefix}-`);
  let created: string | undefined;
  const remove = (): void => {
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    created = undefined;
  };

  const test = TestRunner.getCurrentTest();
  if (test) {
    if (test.concurrent) {
      throw new Error(
        `tempDir('${prefix}') in a concurrent test: vitest cannot tell which test is calling, so nothing would ` +
          `remove the directory at the right time. Make one tempDir() at file scope and mkdtemp below it.`,
      );
    }
    try {
      // The context's own onTestFinished, unlike the global one, refuses inside onTestFinished/onTestFailed
      // callbacks, where a registration would be accepted and never run.
      test.context.onTestFinished(remove);
    } catch (error) {
      throw new Error(`tempDir('${prefix}') in test "${test.name}": ${(error as Error).message}`, { cause: error });
    }
    return (created = mkdtempSync(template));
  }

  const file = currentFile(prefix);
  if (file.result === undefined) {
    // Collecting: `afterAll` attaches to the describe (or file) being collected.
    const path = template + randomSuffix();
    beforeAll(() => {
      mkdirSync(path, { mode: 0o700 }); // EEXIST (never in practice) fails the suite rather than sharing a dir
      created = path;
    });
    afterAll(remove);
    return path;
  }

  // Running, outside any test: a beforeAll or afterAll hook. vitest drops an afterAll() registered now, so the
  // removal goes straight into the file's afterAll hooks, which are read when they start. sequence.hooks is
  // vitest's default 'stack' (run last-registered first): put it first so it runs after the file's own hooks,
  // which may still stop a server using the directory.
  if (fileAfterAllStarted(file)) {
    throw new Error(`tempDir('${prefix}') in the file's afterAll: no hook runs after it to remove the directory`);
  }
  TestRunner.getSuiteHooks(file).afterAll.unshift(remove);
  return (created = mkdtempSync(template));
}

/** The test file vitest is collecting or running in this worker; throws outside vitest. */
function currentFile(prefix: string): RunnerTestFile {
  let file: RunnerTestFile | undefined;
  try {
    file = TestRunner.getCurrentSuite().file;
  } catch {
    // getCurrentSuite() asserts outside a test file
  }
  if (file === undefined) throw new Error(`tempDir('${prefix}') outside a vitest test file: nothing would remove it`);
  return file;
}

/**
 * True once the file's own afterAll hooks run: its top-level tests and describes have run (some have a result)
 * and none is running. During the file's beforeAll none has a result yet; during a describe's hooks it is running.
 */
function fileAfterAllStarted(file: RunnerTestFile): boolean {
  return file.tasks.some((task) => task.result !== undefined) && file.tasks.every((task) => task.result?.state !== 'run');
}

/** Six characters like mkdtemp's XXXXXX. */
function randomSuffix(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(6), (byte) => alphabet[byte % alphabet.length]).join('');
}
