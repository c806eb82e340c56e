import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCycles, importsOf, readImportGraph, upwardImports, type ImportGraph } from '../support/import-graph.js';

/**
 * The layers of src/, top to bottom (docs/architecture.md): the command line drives the core, the core drives
 * the ACME client, the challenge solvers and the exporters (migrate, above the core, takes over other clients'
 * certificates through it), those use the stores, the CA client and the stores share one HTTP client (net), and
 * everything may use the PKI helpers and the vocabulary at the bottom. Peers (acme, challenge, deploy) do not import each other.
 */
const LAYERS: Record<string, number> = { cli: 8, config: 7, migrate: 6, core: 5, acme: 4, challenge: 4, deploy: 4, store: 3, net: 2, pki: 1, domain: 0 };

const srcRoot = fileURLToPath(new URL('../../src', import.meta.url));

describe('the import graph of src/', () => {
  const graph = readImportGraph(srcRoot);

  it('reads the whole source tree', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('core/issue.ts')).toContain('store/store.ts');
  });

  it('has every folder in a layer and only downward imports', () => {
    expect(upwardImports(graph, LAYERS)).toEqual([]);
  });

  it('has no cycles', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('keeps the vocabulary free of imports from the rest', () => {
    for (const [file, imports] of graph) if (file.startsWith('domain/')) expect(imports.filter((t) => !t.startsWith('domain/')), file).toEqual([]);
  });
});

describe('the checker itself', () => {
  const sample: ImportGraph = new Map([
    ['core/issue.ts', ['acme/client.ts', 'domain/errors.ts']],
    ['acme/client.ts', ['core/issue.ts', 'challenge/solver.ts']],
    ['challenge/solver.ts', []],
    ['domain/errors.ts', ['domain/errors.ts']],
    ['extra/thing.ts', ['domain/errors.ts']],
  ]);
  it('finds upward imports, imports between peers and folders without a layer', () => {
    expect(upwardImports(sample, { core: 4, acme: 3, challenge: 3, domain: 0 })).toEqual([
      'acme/client.ts → core/issue.ts: acme may not import core',
      'acme/client.ts → challenge/solver.ts: acme may not import challenge',
      'extra/thing.ts → domain/errors.ts: folder without a layer',
    ]);
  });
  it('finds cycles, also of one file', () => {
    expect(importCycles(sample)).toEqual(['acme/client.ts → core/issue.ts → acme/client.ts', 'domain/errors.ts → domain/errors.ts']);
  });
  it('reads static, re-exported, type-only and dynamic imports, and ignores packages', () => {
    const source = ["import { a } from './a.js';", "import type { B } from '../b/b.js';", "export { c } from './c.js';", "import {\n  d,\n} from './d.js';", "const e = await import('./e.js');", "import chalk from 'chalk';", "import { x } from 'node:fs';"].join('\n');
    expect(importsOf(source)).toEqual(['./a.js', '../b/b.js', './c.js', './d.js', './e.js']);
  });
});
