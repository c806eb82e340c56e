/**
 * Reads the relative imports of the TypeScript sources under a folder (static `import … from`, `export … from`
 * and dynamic `import()`, type-only imports included: they are arrows of the design too) and checks them
 * against a layer order. See docs/architecture.md for the layers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export type ImportGraph = Map<string, string[]>;

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** file (relative to `root`, e.g. "core/issue.ts") → the files it imports, also relative to `root`. */
export function readImportGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const targets = importsOf(readFileSync(path, 'utf8')).map((spec) => relative(root, resolve(dirname(path), spec)).replace(/\.js$/, '.ts'));
        graph.set(relative(root, path), [...new Set(targets)]);
      }
    }
  };
  walk(root);
  return graph;
}

export function importsOf(source: string): string[] {
  return [...source.matchAll(IMPORT)].map((match) => (match[1] ?? match[2])!);
}

/** The top folder of a source file: "core" for "core/issue.ts", "cli" for "cli/commands/issue.ts". */
export function layerOf(file: string): string {
  return file.split('/')[0]!;
}

/**
 * Every import that does not point down: `ranks` gives each top folder its height; a file may import its own
 * folder or a folder of a strictly lower rank. Folders of equal rank (peers) do not import each other.
 */
export function upwardImports(graph: ImportGraph, ranks: Readonly<Record<string, number>>): string[] {
  const problems: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    for (const target of imports) {
      const to = layerOf(target);
      if (from === to) continue;
      const fromRank = ranks[from];
      const toRank = ranks[to];
      if (fromRank === undefined || toRank === undefined) problems.push(`${file} → ${target}: folder without a layer`);
      else if (toRank >= fromRank) problems.push(`${file} → ${target}: ${from} may not import ${to}`);
    }
  }
  return problems;
}

/** The import cycles between files, each as "a.ts → b.ts → a.ts"; empty when the graph has none. */
export function importCycles(graph: ImportGraph): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      const seen = state.get(target);
      if (seen === 'open') cycles.push([...path.slice(path.indexOf(target)), target].join(' → '));
      else if (seen === undefined && graph.has(target)) visit(target);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}
