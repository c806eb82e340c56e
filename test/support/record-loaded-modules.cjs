// Preloaded with --require by the lazy-loading tests: writes what a process loaded to $RECORD_LOADED_MODULES, one
// a line. CommonJS packages (better-sqlite3, commander, cosmiconfig...) pass through Module._load, recorded here
// when the process exits; ES modules (acmectl's own dist/ files, ESM-only packages) pass through the resolve hook
// of record-resolved-modules.mjs, which appends each file URL as it is resolved.
const Module = require('node:module');
const { appendFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const seen = new Set();
const load = Module._load;
Module._load = function (request, ...rest) {
  seen.add(request);
  return load.call(this, request, ...rest);
};
Module.register(pathToFileURL(require.resolve('./record-resolved-modules.mjs')).href);
process.on('exit', () => appendFileSync(process.env.RECORD_LOADED_MODULES, [...seen].map((request) => `${request}\n`).join('')));
