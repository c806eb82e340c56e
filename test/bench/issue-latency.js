// `npm run bench`: wall-clock time to get a certificate from a local Pebble in a fresh process, acmectl
// against a bare acme-client script, plus start-up time of cheap commands. Prints a Markdown table for README.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensurePebbleInstalled, startPebble } from '../../scripts/lib/pebble.js';

const exec = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const bin = fileURLToPath(new URL('../../bin/acmectl.js', import.meta.url));
const bare = fileURLToPath(new URL('./bare-acme-client.cjs', import.meta.url));

async function timed(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p90: at(0.9), min: sorted[0] };
}

await ensurePebbleInstalled();
const pebble = await startPebble();
const home = mkdtempSync(join(tmpdir(), 'acmectl-bench-'));
const env = { ...process.env, ACMECTL_HOME: home, NO_COLOR: '1' };
const common = ['--server', pebble.directoryUrl, '--ca-bundle', pebble.caBundlePath, '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'];
const rows = [];
try {
  const measure = async (label, run) => {
    await run(-1); // warm-up: file caches, Pebble's first order
    const samples = [];
    for (let i = 0; i < RUNS; i++) samples.push(await timed(() => run(i)));
    rows.push({ label, ...summary(samples) });
  };
  await measure('bare acme-client script (new account, 1 name)', (i) => exec(process.execPath, [bare, pebble.directoryUrl, pebble.caBundlePath, String(pebble.httpPort), `bare${i + 1}.example.test`]));
  await measure('acmectl issue, first run (new account, 1 name)', (i) => {
    const fresh = mkdtempSync(join(tmpdir(), 'acmectl-bench-'));
    return exec(process.execPath, [bin, 'issue', `new${i + 1}.example.test`, ...common, '--agree-tos', '--email', 'bench@example.com'], { env: { ...env, ACMECTL_HOME: fresh } }).finally(() => rmSync(fresh, { recursive: true, force: true }));
  });
  await exec(process.execPath, [bin, 'issue', 'renew.example.test', ...common, '--agree-tos', '--email', 'bench@example.com'], { env });
  await measure('acmectl issue --force (existing account, 1 name)', () => exec(process.execPath, [bin, 'issue', 'renew.example.test', ...common, '--force'], { env }));
  await measure('acmectl issue, 3 names in one certificate', (i) =>
    exec(process.execPath, [bin, 'issue', `a${i + 1}.example.test`, `b${i + 1}.example.test`, `c${i + 1}.example.test`, ...common], { env }));
  await measure('acmectl issue, not due (nothing to do)', () => exec(process.execPath, [bin, 'issue', 'renew.example.test', ...common], { env }));
  await measure('acmectl list (20 certificates)', () => exec(process.execPath, [bin, 'list'], { env }));
  await measure('acmectl --help', () => exec(process.execPath, [bin, '--help'], { env }));
} finally {
  await pebble.stop();
  rmSync(home, { recursive: true, force: true });
}

console.log(`Local Pebble (PEBBLE_VA_NOSLEEP=1), ${RUNS} runs each, fresh process per run, ${process.version}:\n`);
console.log('| what | median | p90 | best |');
console.log('|---|---|---|---|');
for (const row of rows) console.log(`| ${row.label} | ${row.median.toFixed(0)} ms | ${row.p90.toFixed(0)} ms | ${row.min.toFixed(0)} ms |`);
