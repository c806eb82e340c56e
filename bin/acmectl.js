#!/usr/bin/env node
// Loads the built entry point and nothing else; `npm install` runs the build (prepare script).
import module from 'node:module';

// Node 22.1+ caches compiled code on disk (in the OS temp directory), which shortens every later start;
// on Node 20 the function does not exist and nothing happens.
module.enableCompileCache?.();
// File writes (a new fleet host exports thousands of certificates, each fsynced) and key generation run on
// libuv's thread pool, 4 threads unless told otherwise; it is sized when first used, so only here.
process.env.UV_THREADPOOL_SIZE ??= '16';
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Answered from here: the version module alone, not the command line's entry point and what it imports.
  const { VERSION } = await import('../dist/cli/version.js');
  process.stdout.write(`${VERSION}\n`);
} else {
  await import('../dist/cli/main.js');
}
