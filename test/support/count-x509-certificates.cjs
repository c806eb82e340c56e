// Preloaded with --require by tests: counts the X509Certificate objects a process constructs (every parse of a
// certificate in acmectl goes through node:crypto's X509Certificate) and writes the count to
// $RECORD_X509_COUNT when it exits. ESM code imports node:crypto's named exports, which are copies:
// syncBuiltinESMExports() hands them the counting class before any module of acmectl is loaded.
const crypto = require('node:crypto');
const { syncBuiltinESMExports } = require('node:module');
const { writeFileSync } = require('node:fs');
let count = 0;
crypto.X509Certificate = new Proxy(crypto.X509Certificate, {
  construct(target, args, newTarget) {
    count += 1;
    return Reflect.construct(target, args, newTarget);
  },
});
syncBuiltinESMExports();
process.on('exit', () => writeFileSync(process.env.RECORD_X509_COUNT, String(count)));
