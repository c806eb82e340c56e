#!/usr/bin/env node
// `npm run demo`: issues a real certificate for demo.example.test from a throwaway local ACME CA
// (Pebble on loopback ports), using the built acmectl CLI, and shows where the files went.
// Plain node ESM so it runs without a TypeScript toolchain.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ensurePebbleInstalled, startPebble } from './lib/pebble.js';

const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const cliEntry = join(repoRoot, 'bin', 'acmectl.js');
const builtMain = join(repoRoot, 'dist', 'cli', 'main.js');
const acmectlHome = join(repoRoot, '.demo', 'home');
const domain = 'demo.example.test';

/** @param {string} line */
const say = (line) => process.stdout.write(`[demo] ${line}\n`);

/**
 * Runs the built CLI with inherited stdio (the user sees its progress) and resolves with its exit
 * code (128 + signal number style codes when it was killed by a signal).
 * @param {string[]} args
 * @returns {Promise<number>}
 */
function runAcmectl(args) {
  say(`acmectl ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliEntry, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ACMECTL_HOME: acmectlHome },
      stdio: 'inherit',
    });
    child.on('error', (error) => {
      say(`could not run acmectl: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}

async function main() {
  if (!existsSync(builtMain)) {
    say(`acmectl is not built (${builtMain} is missing). Run \`npm install\` (it builds the CLI), then \`npm run demo\` again.`);
    return 1;
  }

  try {
    await ensurePebbleInstalled({ log: say });
  } catch (error) {
    say(error instanceof Error ? error.message : String(error));
    return 1;
  }

  // Each demo talks to a new Pebble with new keys, so what an earlier run stored is of no use: start clean.
  await rm(acmectlHome, { recursive: true, force: true });
  await mkdir(acmectlHome, { recursive: true });

  // Ctrl-C reaches acmectl and Pebble too (same process group); we make sure Pebble is stopped and
  // its temp dir removed whenever it comes. Before Pebble is up, exiting is enough: the harness's
  // exit handler kills whatever it already started.
  /** @type {import('./lib/pebble.js').PebbleHandle | undefined} */
  let pebble;
  const onSigint = () => {
    say('interrupted; stopping Pebble...');
    (pebble ? pebble.stop() : Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSigint);

  say('starting Pebble, a throwaway local ACME test CA, on free 127.0.0.1 ports...');
  pebble = await startPebble({ log: say });

  try {
    say(`Pebble directory: ${pebble.directoryUrl} (HTTPS trusted via ${pebble.caBundlePath})`);
    say(`Pebble will validate HTTP-01 at http://${domain}:${pebble.httpPort}/ (every name resolves to 127.0.0.1 here)`);

    const issueCode = await runAcmectl([
      'issue', domain,
      '--server', pebble.directoryUrl,
      '--ca-bundle', pebble.caBundlePath,
      '--http-port', String(pebble.httpPort),
      '--http-address', '127.0.0.1',
      '--email', 'demo@example.test',
      '--agree-tos',
    ]);
    if (issueCode !== 0) {
      say(`acmectl issue failed with exit code ${issueCode}.`);
      return issueCode;
    }

    const showCode = await runAcmectl(['show', domain]);
    say(`certificate files: ${join(acmectlHome, 'live', domain)}/`);
    say('note: this certificate comes from a throwaway local test CA (Pebble) and is trusted by nothing; ' +
      'Pebble and its keys are gone when this demo exits.');
    return showCode;
  } finally {
    await pebble.stop(); // idempotent: waits for the same shutdown if SIGINT already started it
    process.off('SIGINT', onSigint);
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
