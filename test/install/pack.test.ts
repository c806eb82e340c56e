import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';
import { describeFailure, runCommand } from './run-command.js';

/**
 * What `npm pack` (and so `npm publish` and `npm install -g`) ships: everything the installed command needs at
 * run time, and nothing that is only for development.
 */

interface PackageJson {
  bin: Record<string, string>;
  man: string[];
  dependencies: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
let packed: Set<string>;

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  // --ignore-scripts: no `prepare` rebuild of dist/ while other test files run the built CLI.
  const result = await runCommand('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(describeFailure('npm pack --dry-run', result));
  const [report] = JSON.parse(result.stdout) as [{ files: { path: string }[] }];
  packed = new Set(report.files.map((file) => file.path));
});

describe('npm pack', () => {
  it('ships the command, its man page, completion, licence and README', () => {
    for (const path of ['bin/acmectl.js', 'dist/cli/main.js', 'man/acmectl.1', 'completions/acmectl.bash', 'completions/_acmectl', 'completions/acmectl.fish', 'LICENSE', 'README.md', 'package.json']) {
      expect(packed, `${path} is not packed`).toContain(path);
    }
  });

  it("ships what package.json's bin and man fields name", () => {
    for (const path of [...Object.values(pkg.bin), ...pkg.man]) expect(packed, path).toContain(posix.normalize(path));
  });

  it('ships every module bin/acmectl.js imports, directly or not, and needs no devDependency', () => {
    const { modules, packages } = importGraph(join(REPO_ROOT, 'bin/acmectl.js'));
    expect(modules.size).toBeGreaterThan(50); // the walk followed the lazily imported command modules too
    for (const module of modules) expect(packed, `${module} is imported but not packed`).toContain(module);
    for (const name of packages) expect(Object.keys(pkg.dependencies), `${name} is imported but not a dependency`).toContain(name);
  });

  it('ships nothing for development: sources, tests, CI, node_modules, tarballs', () => {
    const unwanted = [...packed].filter(
      (path) =>
        /^(src|test|scripts|\.ci|node_modules)\//.test(path) ||
        /(^|\/)node_modules\//.test(path) ||
        /\.test\.[cm]?[jt]s(\.map)?$/.test(path) ||
        /(?<!\.d)\.ts$/.test(path) ||
        path.endsWith('.tgz'),
    );
    expect(unwanted).toEqual([]);
  });
});

/**
 * Walks the built import graph from `entry`: static imports, re-exports and `import('...')` (every command
 * module is imported lazily). Returns the reachable local modules (paths relative to the repository) and the
 * npm packages they import.
 */
function importGraph(entry: string): { modules: Set<string>; packages: Set<string> } {
  const modules = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    const path = relative(REPO_ROOT, file);
    if (modules.has(path)) return;
    modules.add(path);
    const source = readFileSync(file, 'utf8');
    // A computed import('...') would hide a module from this walk, so there must be none.
    const dynamicImports = source.match(/\bimport\(/g)?.length ?? 0;
    const literalDynamicImports = source.match(/\bimport\(\s*['"][^'"]+['"]\s*\)/g)?.length ?? 0;
    expect(dynamicImports, `${path} has an import() of a computed name`).toBe(literalDynamicImports);
    const specifiers = [
      ...source.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm),
      ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
      ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ].map((match) => match[1]!);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) packages.add(packageName(specifier));
    }
  };
  visit(entry);
  return { modules, packages };
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
