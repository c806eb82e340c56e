// `npm run bench`: the measurements of issue 12 in one run, on a Pebble of its own (PEBBLE_VA_NOSLEEP=1).
//   single   one certificate, fresh process: acmectl against uacme, certbot and lego (and the bare acme-client floor)
//   bulk     acmectl renew --force --concurrency 16 against a bare acme-client loop at the same concurrency
//   startup  acmectl --version and list (empty store) against node -e 0
//   scale    list, a no-op renew and a new host's first renew over seeded stores, SQLite and Redis
// Prints a Markdown table and writes the same as JSON (test/bench/results.json).
// Environment: BENCH_RUNS (default 5), BENCH_ONLY=single,bulk,startup,scale (default all),
// BENCH_SCALE (default 1000,10000), BENCH_BULK (certificates in bulk, default 106).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPebble } from '../../scripts/lib/pebble.js';
import { benchTempDir, cleanUpAll, installSignalCleanup, onCleanup } from './lib/cleanup.js';
import { machine, markdownTable, Results } from './lib/report.js';
import { webrootServer } from './lib/webroot-server.js';
import { bulkPart } from './parts/bulk.js';
import { scalePart } from './parts/scale.js';
import { singlePart } from './parts/single.js';
import { startupPart } from './parts/startup.js';

const PARTS = ['single', 'bulk', 'startup', 'scale'];
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

function positiveInteger(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^[1-9]\d*$/.test(text)) throw new Error(`${name} must be a positive whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

function settings() {
  const only = (process.env.BENCH_ONLY ?? '').split(',').map((part) => part.trim()).filter(Boolean);
  const unknown = only.filter((part) => !PARTS.includes(part));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown part ${unknown.join(', ')} (parts: ${PARTS.join(', ')})`);
  const sizes = (process.env.BENCH_SCALE || '1000,10000').split(',').map((size) => size.trim());
  if (!sizes.every((size) => /^[1-9]\d*$/.test(size))) throw new Error(`BENCH_SCALE must list certificate counts, e.g. 1000,10000, not ${JSON.stringify(process.env.BENCH_SCALE)}`);
  return {
    runs: positiveInteger('BENCH_RUNS', 5),
    bulk: positiveInteger('BENCH_BULK', 106),
    sizes: [...new Set(sizes.map(Number))].sort((a, b) => a - b),
    parts: only.length > 0 ? PARTS.filter((part) => only.includes(part)) : PARTS,
  };
}

const log = (line) => process.stderr.write(`bench: ${line}\n`);

async function main() {
  const options = settings();
  installSignalCleanup();
  const results = new Results();
  const host = machine();
  log(`parts: ${options.parts.join(', ')}; ${options.runs} runs; on ${host.cpu}, ${host.cores} cores, Node ${host.node}, load ${host.loadAverageAtStart.join(' ')}`);
  const root = benchTempDir('run');
  try {
    if (options.parts.includes('single') || options.parts.includes('bulk')) {
      // Every order is validated (no reused authorizations) and no nonce is refused on purpose: the same work
      // for every client in every run.
      const pebble = await startPebble({ env: { PEBBLE_AUTHZREUSE: '0', PEBBLE_WFE_NONCEREJECT: '0' } });
      onCleanup(() => pebble.stop());
      const webroot = join(root, 'webroot');
      mkdirSync(webroot);
      const server = webrootServer(webroot, pebble.httpPort);
      onCleanup(() => server.stop());
      await server.start();
      if (options.parts.includes('single')) await singlePart({ results, pebble, root, runs: options.runs, webroot, server, log });
      if (options.parts.includes('bulk')) await bulkPart({ results, pebble, root, runs: options.runs, count: options.bulk, webroot, log });
    }
    // Start-up measures short commands: several times the runs, for a steadier median.
    if (options.parts.includes('startup')) await startupPart({ results, root, runs: options.runs * 4, log });
    if (options.parts.includes('scale')) await scalePart({ results, root, runs: options.runs, sizes: options.sizes, log });
  } finally {
    await cleanUpAll();
  }

  const rows = results.resolved();
  const report = {
    machine: host,
    settings: { runs: options.runs, startupRuns: options.runs * 4, bulk: options.bulk, scale: options.sizes, parts: options.parts, pebble: 'Debian stable pebble, PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0' },
    rows,
    notes: results.notes,
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  const unmet = rows.flatMap((row) => [...row.comparisons.filter((c) => c.met === false), ...row.targets.filter((t) => t.met === false)].map(() => row.what));
  console.log(`Measured ${host.date.slice(0, 10)} on ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, Node ${host.node}, Linux ${host.kernel}; load average at start ${host.loadAverageAtStart.join(', ')}.`);
  console.log(`Medians of ${options.runs} runs (start-up and node -e 0: ${options.runs * 4}), a fresh process per run; peak = the largest peak RSS of a run.\n`);
  console.log(markdownTable(rows));
  if (results.notes.length > 0) console.log(`\n${results.notes.map((note) => `- ${note}`).join('\n')}`);
  console.log(`\n${unmet.length === 0 ? 'Every target measured is met.' : `Targets not met: ${[...new Set(unmet)].join('; ')}.`} JSON: ${RESULTS_FILE}`);
}

main().catch(async (error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  await cleanUpAll();
  process.exit(1);
});
