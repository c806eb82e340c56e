// Everything the bench starts (Pebble, redis-server, the webroot server, timed children, temp dirs) registers
// how to undo it here, so that a failure, SIGINT or SIGTERM leaves nothing behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** @type {Array<() => unknown>} undo steps, run last first */
const steps = [];
/** @type {Set<import('node:child_process').ChildProcess>} children being timed right now */
const liveChildren = new Set();
/** @type {Set<string>} removed synchronously at exit too, in case a step never ran */
const tempDirs = new Set();

/** Registers an undo step; returns a function that runs it now (once) and forgets it. */
export function onCleanup(step) {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    await step();
  };
  steps.push(once);
  return async () => {
    steps.splice(steps.indexOf(once), 1);
    await once();
  };
}

/** A fresh directory under the system temp dir, removed at the end (or at exit, whatever happens). */
export function benchTempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `acmectl-bench-${prefix}-`));
  tempDirs.add(dir);
  onCleanup(() => {
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  });
  return dir;
}

/** Tracks a child so that an interrupted bench kills it. */
export function trackChild(child) {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  child.once('error', () => liveChildren.delete(child));
}

let stopping = false;

/** True once cleanup has begun: nothing new may start. */
export function isStopping() {
  return stopping;
}

/** Runs every undo step, last registered first; a failing step does not stop the others. */
export async function cleanUpAll() {
  stopping = true;
  for (const child of liveChildren) child.kill('SIGKILL');
  while (steps.length > 0) {
    const step = /** @type {() => unknown} */ (steps.pop());
    try {
      await step();
    } catch (error) {
      process.stderr.write(`bench cleanup: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}

let installed = false;

/** On SIGINT/SIGTERM: clean up, then exit 130/143. A second signal exits at once (the exit hook still runs). */
export function installSignalCleanup() {
  if (installed) return;
  installed = true;
  let signalled = false;
  for (const [signal, code] of /** @type {const} */ ([['SIGINT', 130], ['SIGTERM', 143]])) {
    process.on(signal, () => {
      if (signalled) process.exit(code);
      signalled = true;
      process.stderr.write(`\nbench: ${signal}, cleaning up...\n`);
      cleanUpAll().finally(() => process.exit(code));
    });
  }
  // Last resort, synchronous: children die with SIGKILL, temp dirs go. (Pebble's and redis-server's own exit
  // hooks in scripts/lib/pebble.js kill them.)
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}
