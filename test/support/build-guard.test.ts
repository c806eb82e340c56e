import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBuild, staleBuildOutputs } from './build-guard.js';
import { tempDir } from './temp-dir.js';

/** Writes `path` under `root` with its modification time `secondsAgo` in the past. */
function file(root: string, path: string, secondsAgo: number): void {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, '// x\n');
  const time = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(full, time, time);
}

describe('the build guard', () => {
  it('names every output that is missing or older than its source, and nothing else', () => {
    const root = tempDir('build-guard');
    file(root, 'src/cli/main.ts', 100);
    file(root, 'dist/cli/main.js', 50); // built after the last change
    file(root, 'src/core/issue.ts', 10);
    file(root, 'dist/core/issue.js', 50); // the source changed after the build
    file(root, 'src/store/new-backend.ts', 10); // never built
    file(root, 'src/core/issue.test.ts', 1); // tests are not built
    file(root, 'src/domain/types.d.ts', 1);
    expect(staleBuildOutputs(join(root, 'src'), join(root, 'dist'))).toEqual([
      'dist/core/issue.js is older than src/core/issue.ts',
      'dist/store/new-backend.js is missing (from src/store/new-backend.ts)',
    ]);
  });

  it('finds everything missing when there is no build at all', () => {
    const root = tempDir('build-guard');
    file(root, 'src/cli/main.ts', 1);
    expect(staleBuildOutputs(join(root, 'src'), join(root, 'dist'))).toEqual(['dist/cli/main.js is missing (from src/cli/main.ts)']);
  });

  it('stops the run with what to do, and lets it go on once the build is there', () => {
    const root = tempDir('build-guard');
    file(root, 'src/cli/main.ts', 10);
    expect(() => checkBuild(root)).toThrow(/^dist\/ is not the build of src\/: run npm run build .*\n  dist\/cli\/main\.js is missing/);
    file(root, 'dist/cli/main.js', 0);
    expect(() => checkBuild(root)).not.toThrow();
  });
});
