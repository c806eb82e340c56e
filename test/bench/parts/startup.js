// Start-up: what a command costs before it does anything, against a Node process that does nothing.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../../dist/store/open.js';
import { acmectl } from '../lib/acmectl.js';
import { cleanEnv, expectSuccess, runSpec } from '../lib/child.js';

export const NODE_FLOOR_ID = 'node-e-0';

/** `node -e 0`, the floor of every Node command line. */
export function nodeFloor(home) {
  return { command: process.execPath, args: ['-e', '0'], env: cleanEnv(home) };
}

/**
 * @param {{ results: import('../lib/report.js').Results, root: string, runs: number, log: (line: string) => void }} context
 */
export async function startupPart({ results, root, runs, log }) {
  const part = 'start-up';
  const home = join(root, 'startup');
  mkdirSync(home, { recursive: true });
  // An empty store that exists (a store with nothing in it yet, not a missing file, which list would not open).
  await (await openStore(`sqlite:${join(home, 'acmectl.db')}`)).close();
  const contestants = [
    { row: results.add({ id: NODE_FLOOR_ID, part, what: 'node -e 0 (floor)', label: 'node -e 0' }), spec: nodeFloor(home) },
    { row: results.add({ id: 'startup-version', part, what: 'acmectl --version', compare: [{ against: NODE_FLOOR_ID, limit: 1.3 }] }), spec: acmectl(['--version'], home) },
    { row: results.add({ id: 'startup-list', part, what: 'acmectl list, empty SQLite store', compare: [{ against: NODE_FLOOR_ID, limit: 2 }] }), spec: acmectl(['list'], home) },
  ];
  for (const { row, spec } of contestants) expectSuccess(row.what, await runSpec(spec)); // warm-up
  log(`start-up: ${runs} rounds`);
  for (let round = 0; round < runs; round++) {
    for (let index = 0; index < contestants.length; index++) {
      const { row, spec } = /** @type {typeof contestants[number]} */ (contestants[(index + round) % contestants.length]);
      row.samples.push(expectSuccess(row.what, await runSpec(spec)).ms);
    }
  }
}
