// Scale: `list`, a no-op `renew`, and the first renew of a new host (everything to export) over stores seeded
// with many certificates, on SQLite and on Redis.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { acmectl } from '../lib/acmectl.js';
import { expectSuccess, runSpec } from '../lib/child.js';
import { startRedis } from '../lib/redis.js';
import { summary, formatMs } from '../lib/report.js';
import { makeSeedPems, seededName, seedStore } from '../lib/seed-store.js';
import { NODE_FLOOR_ID, nodeFloor } from './startup.js';

/**
 * @param {{ results: import('../lib/report.js').Results, root: string, runs: number, sizes: number[], log: (line: string) => void }} context
 */
export async function scalePart({ results, root, runs, sizes, log }) {
  const part = 'scale';
  const seedDir = join(root, 'scale-seed');
  mkdirSync(seedDir, { recursive: true });
  const pems = await makeSeedPems(seedDir);
  if (!results.find(NODE_FLOOR_ID)) await measureNodeFloor(results, root, runs * 4);
  const redis = await startRedis();

  for (const [sizeIndex, count] of sizes.entries()) {
    const n = count.toLocaleString('en');
    const backends = [
      { key: 'sqlite', label: 'SQLite', url: `sqlite:${join(root, `scale-${count}`, 'acmectl.db')}` },
      { key: 'redis', label: 'Redis', url: redis.url(sizeIndex + 1) },
    ];
    for (const backend of backends) {
      const onSqlite = backend.key === 'sqlite';
      const sqliteTwin = (kind) => ({ against: `scale-${kind}-sqlite-${count}`, limit: 3 });
      const floor = { against: NODE_FLOOR_ID, limit: 10 };
      const listRow = results.add({ id: `scale-list-${backend.key}-${count}`, part, what: `acmectl list, ${n} certificates, ${backend.label}`, label: `${backend.label} list`, compare: [onSqlite ? floor : sqliteTwin('list')], ...(onSqlite ? { peakLimitMiB: 150 } : {}) });
      const renewRow = results.add({ id: `scale-renew-${backend.key}-${count}`, part, what: `acmectl renew, nothing due, ${n} certificates, ${backend.label}`, label: `${backend.label} renew`, compare: [onSqlite ? floor : sqliteTwin('renew')], ...(onSqlite ? { peakLimitMiB: 150 } : {}) });
      const fleetRow = results.add({ id: `scale-fleet-${backend.key}-${count}`, part, what: `first renew on a new host (exports ${n} certificates), ${backend.label}`, timeLimitMs: 30_000, note: 'one run' });

      log(`scale: seeding ${n} certificates into ${backend.label}`);
      await seedStore(backend.url, count, pems);
      // A new host of a fleet: the same store, a fresh data directory with nothing deployed yet.
      const home = join(root, `scale-home-${backend.key}-${count}`);
      mkdirSync(home, { recursive: true });
      const env = { ACMECTL_STORE: backend.url };
      const notDue = new RegExp(`^0 renewed, ${count} not due, 0 failed$`, 'm');
      const renew = async (what) =>
        expectSuccess(what, await runSpec(acmectl(['renew', '--no-random-sleep'], home, env), { peakMemory: true }), (result) => notDue.test(result.stdout) && !/warning/i.test(result.stderr));

      log(`scale: first renew on a new host, ${n} certificates, ${backend.label}`);
      record(fleetRow, await renew(fleetRow.what));
      if (!existsSync(join(home, 'live', seededName(count), 'cert.pem'))) throw new Error(`${fleetRow.what} did not export ${seededName(count)}`);

      // Now everything is deployed here: a renew from now on has nothing to do.
      const listed = (result) => result.stdout.split('\n').filter((line) => line.includes('.scale.bench.test')).length === count;
      expectSuccess(listRow.what, await runSpec(acmectl(['list'], home, env)), listed); // warm-up
      log(`scale: list and renew, ${n} certificates, ${backend.label}: ${runs} rounds`);
      for (let round = 0; round < runs; round++) {
        record(renewRow, await renew(renewRow.what));
        record(listRow, expectSuccess(listRow.what, await runSpec(acmectl(['list'], home, env), { peakMemory: true }), listed));
      }
    }
  }
  noteGrowth(results, sizes);
  await redis.stop();
}

function record(row, result) {
  row.samples.push(result.ms);
  if (result.peakKiB !== null) row.peaksKiB.push(result.peakKiB);
}

async function measureNodeFloor(results, root, runs) {
  const home = join(root, 'scale-floor');
  mkdirSync(home, { recursive: true });
  const row = results.add({ id: NODE_FLOOR_ID, part: 'scale', what: 'node -e 0 (floor)', label: 'node -e 0' });
  await runSpec(nodeFloor(home));
  for (let round = 0; round < runs; round++) row.samples.push(expectSuccess(row.what, await runSpec(nodeFloor(home))).ms);
}

/** "list, SQLite: 95 ms at 1,000 → 620 ms at 10,000 certificates (+58 ms per 1,000)": is it linear? */
function noteGrowth(results, sizes) {
  if (sizes.length < 2) return;
  const small = Math.min(...sizes);
  const large = Math.max(...sizes);
  for (const kind of ['list', 'renew', 'fleet']) {
    for (const backend of ['sqlite', 'redis']) {
      const a = summary(results.find(`scale-${kind}-${backend}-${small}`)?.samples ?? []);
      const b = summary(results.find(`scale-${kind}-${backend}-${large}`)?.samples ?? []);
      if (!a || !b) continue;
      const perThousand = ((b.median - a.median) / (large - small)) * 1000;
      results.notes.push(
        `${kind} (${backend}): ${formatMs(a.median)} at ${small.toLocaleString('en')} → ${formatMs(b.median)} at ${large.toLocaleString('en')} certificates: ` +
          `${perThousand < 0 ? '−' : '+'}${formatMs(Math.abs(perThousand))} per 1,000 certificates; ${(large / small).toFixed(0)}× the certificates took ${(b.median / a.median).toFixed(1)}× the time`,
      );
    }
  }
}
