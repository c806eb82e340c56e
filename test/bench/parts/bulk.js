// Many certificates in one process: `acmectl renew --force --concurrency 16` over certificates issued first,
// against the bare acme-client loop at the same concurrency doing the same work (one registered account, an
// order per name with HTTP-01 through the same webroot, finalize, download). Rounds alternate who goes first.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { mapWithConcurrency } from '../../../dist/domain/concurrency.js';
import { acmectl, bareAcmeClient, EMAIL, pebbleOptions } from '../lib/acmectl.js';
import { expectSuccess, runSpec } from '../lib/child.js';

const CONCURRENCY = 16;
/** acmectl processes issuing the certificates to renew, at once (setup, not timed). */
const SETUP_PROCESSES = 4;

/**
 * @param {{ results: import('../lib/report.js').Results, pebble: import('../../../scripts/lib/pebble.js').PebbleHandle,
 *   root: string, runs: number, count: number, webroot: string, log: (line: string) => void }} context
 */
export async function bulkPart({ results, pebble, root, runs, count, webroot, log }) {
  const part = 'bulk';
  const home = join(root, 'bulk-acmectl');
  mkdirSync(home, { recursive: true });
  const names = Array.from({ length: count }, (_, index) => `c${index + 1}.bulk.bench.test`);
  const acmectlRow = results.add({
    id: 'bulk-acmectl',
    part,
    what: `acmectl renew --force --concurrency ${CONCURRENCY}, ${count} certificates`,
    compare: [{ against: 'bulk-bare', limit: 1.15 }],
    peakLimitMiB: 150,
  });
  const bareRow = results.add({ id: 'bulk-bare', part, what: `bare acme-client loop, concurrency ${CONCURRENCY}, ${count} certificates (floor)`, label: 'the bare loop' });

  log(`bulk: issuing ${count} certificates to renew`);
  const issue = (name, extra = []) => acmectl(['issue', name, '--webroot', webroot, '--email', EMAIL, ...extra, ...pebbleOptions(pebble)], home);
  const first = /** @type {string} */ (names[0]);
  expectSuccess(`acmectl issue ${first}`, await runSpec(issue(first, ['--agree-tos'])));
  await mapWithConcurrency(names.slice(1), SETUP_PROCESSES, async (name) => expectSuccess(`acmectl issue ${name}`, await runSpec(issue(name))));

  const accountFile = join(root, 'bulk-bare-account.json');
  expectSuccess('the bare acme-client loop (registering its account)', await runSpec(bareAcmeClient(pebble, { webroot, accountFile, concurrency: 1, names: ['account.bare.bench.test'], home: root })));

  const renewed = new RegExp(`^${count} renewed, 0 not due, 0 failed$`, 'm');
  const renewAll = async () =>
    expectSuccess('acmectl renew --force', await runSpec(acmectl(['renew', '--force', '--concurrency', String(CONCURRENCY), '--no-random-sleep'], home), { peakMemory: true }), (result) => renewed.test(result.stdout));
  // Fresh names each round: the same work for Pebble as renewing the same names again.
  const bareLoop = async (round) =>
    expectSuccess('the bare acme-client loop', await runSpec(bareAcmeClient(pebble, { webroot, accountFile, concurrency: CONCURRENCY, names: names.map((name) => `r${round}-${name}`), home: root }), { peakMemory: true }));
  // Untimed first round: both warm (Pebble's first orders of each account, file caches).
  await renewAll();
  await bareLoop(0);
  for (let round = 1; round <= runs; round++) {
    log(`bulk: round ${round} of ${runs}`);
    const order = round % 2 === 1 ? [[acmectlRow, renewAll], [bareRow, bareLoop]] : [[bareRow, bareLoop], [acmectlRow, renewAll]];
    for (const [row, run] of order) {
      const result = await run(round);
      row.samples.push(result.ms);
      if (result.peakKiB !== null) row.peaksKiB.push(result.peakKiB);
    }
  }
}

