// Preloaded with --require by the lazy-loading test: writes the package names a process loaded to
// $RECORD_LOADED_MODULES when it exits. acme-client, better-sqlite3, axios, ora... are CommonJS or reach
// us through CommonJS loading, so Module._load sees them.
const Module = require('node:module');
const { writeFileSync } = require('node:fs');
const seen = new Set();
const load = Module._load;
Module._load = function (request, ...rest) {
  seen.add(request);
  return load.call(this, request, ...rest);
};
process.on('exit', () => writeFileSync(process.env.RECORD_LOADED_MODULES, [...seen].join('\n')));
