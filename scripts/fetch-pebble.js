#!/usr/bin/env node
// `node scripts/fetch-pebble.js`: makes sure Pebble 2.10 (the test CA with ARI and profiles) is unpacked in the
// test cache folder, fetching Debian unstable's package when it is not, and prints the folder. The test harness
// does the same on demand (startPebble({ version: 'ari' })); CI runs this first so that a download problem shows
// up as such, before the tests.
//
// `--holding-lock DIR` is the harness's own use: the download, run under flock(1) by ensurePebbleAri().
import { ensurePebbleAri, fetchPebbleAriHoldingLock } from './lib/pebble.js';

/** @param {string} line */
const say = (line) => process.stdout.write(`${line}\n`);

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--holding-lock' && args.length === 2 && args[1]) {
    await fetchPebbleAriHoldingLock(args[1], say);
    return 0;
  }
  if (args.length > 0) {
    process.stderr.write('usage: node scripts/fetch-pebble.js\n');
    return 2;
  }
  const install = await ensurePebbleAri({ log: say });
  say(`pebble ${install.packageVersion}: ${install.pebble}${install.fetched ? '' : ' (already in the cache)'}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
