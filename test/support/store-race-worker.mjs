// One side of a cross-process store race (test/store/contract.ts runs two of these at once).
//
//   node test/support/store-race-worker.mjs STORE_URL START_AT_EPOCH_MS TASK_JSON
//
// TASK_JSON is {"op":"lock","names":[...],"ttlMs":N} | {"op":"cas","keys":[...],"revs":[...]} |
// {"op":"create","keys":[...]}. Round i runs at START_AT + i * ROUND_GAP_MS against names[i] / keys[i].
// The worker prints ONE JSON line {pid, results: [{round, won, lateMs, fence?, rev?, value?}]}, then keeps
// what it won (its leases) until stdin closes, then closes the store (releasing them) and exits 0.
// It uses the BUILT code (dist/), as a second acmectl process would.
import { openStore } from '../../dist/store/open.js';

const ROUND_GAP_MS = 50;

const [url, startAtText, taskJson] = process.argv.slice(2);
if (url === undefined || startAtText === undefined || taskJson === undefined) {
  throw new Error('usage: store-race-worker.mjs STORE_URL START_AT_EPOCH_MS TASK_JSON');
}
const startAt = Number(startAtText);
const task = JSON.parse(taskJson);
const encoder = new TextEncoder();

/** Sleeps until `instant`, spinning the last 2 ms so both processes start as close together as possible. */
async function waitUntil(instant) {
  const ahead = instant - Date.now();
  if (ahead > 2) await new Promise((resolve) => setTimeout(resolve, ahead - 2));
  while (Date.now() < instant) {
    // busy-wait: a timer could fire a millisecond or more late
  }
  return Date.now() - instant;
}

async function attempt(store, round) {
  const value = `pid-${process.pid}-round-${round}`;
  switch (task.op) {
    case 'lock': {
      const lease = await store.lock(task.names[round], { ttlMs: task.ttlMs });
      return lease === null ? { won: false } : { won: true, fence: String(lease.fence) };
    }
    case 'cas': {
      const result = await store.put(task.keys[round], encoder.encode(value), { ifRev: task.revs[round] });
      return result.ok ? { won: true, rev: result.rev, value } : { won: false };
    }
    case 'create': {
      const result = await store.put(task.keys[round], encoder.encode(value), { ifAbsent: true });
      return result.ok ? { won: true, rev: result.rev, value } : { won: false };
    }
    default:
      throw new Error(`unknown race op ${JSON.stringify(task.op)}`);
  }
}

const rounds = (task.names ?? task.keys).length;
const store = await openStore(url);
const results = [];
for (let round = 0; round < rounds; round++) {
  const lateMs = await waitUntil(startAt + round * ROUND_GAP_MS);
  results.push({ round, lateMs, ...(await attempt(store, round)) });
}
process.stdout.write(`${JSON.stringify({ pid: process.pid, results })}\n`);

// Hold the leases until the parent has both reports; its closing stdin (or dying) ends this.
process.stdin.resume();
await new Promise((resolve) => process.stdin.once('end', resolve));
await store.close();
