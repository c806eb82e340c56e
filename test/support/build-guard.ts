// vitest globalSetup: the run fails before any test when dist/ does not hold the build of today's src/.
//
// The e2e and install tests run the BUILT command line (bin/acmectl.js → dist/), and some store tests start
// workers on the built code. Without a build after the last change to src/, they would test the old code and
// pass or fail for reasons that are no longer true, silently. `npm test` builds first; a bare `npx vitest run`
// does not, hence this check.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export default function setup(): void {
  checkBuild(REPO_ROOT);
}

/** Throws, naming the stale outputs and saying to build, unless `root`/dist is the build of `root`/src. */
export function checkBuild(root: string): void {
  const stale = staleBuildOutputs(join(root, 'src'), join(root, 'dist'));
  if (stale.length === 0) return;
  const shown = stale.slice(0, 10).map((line) => `  ${line}`);
  if (stale.length > shown.length) shown.push(`  ... and ${stale.length - shown.length} more`);
  throw new Error(
    [
      `dist/ is not the build of src/: run npm run build (tsc -p tsconfig.build.json) before the tests, which run the built code.`,
      ...shown,
    ].join('\n'),
  );
}

/**
 * For every source file under `srcRoot` that the build compiles (*.ts, not *.test.ts or *.d.ts), a line when its
 * output under `distRoot` (same path, .js) is missing or older than the source. Paths are shown relative to the
 * parent of `srcRoot`.
 */
export function staleBuildOutputs(srcRoot: string, distRoot: string): string[] {
  const base = join(srcRoot, '..');
  return sourceFiles(srcRoot).flatMap((source) => {
    const output = join(distRoot, relative(srcRoot, source)).replace(/\.ts$/, '.js');
    const shownSource = relative(base, source);
    const shownOutput = relative(base, output);
    if (!existsSync(output)) return [`${shownOutput} is missing (from ${shownSource})`];
    if (statSync(output).mtimeMs < statSync(source).mtimeMs) return [`${shownOutput} is older than ${shownSource}`];
    return [];
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(path);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
    })
    .sort();
}
