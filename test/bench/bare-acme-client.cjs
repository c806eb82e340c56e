// The floor the bench compares acmectl with: the least a Node program does to get certificates with
// acme-client. One process, one account, one order per name (HTTP-01 answered through the same webroot the
// other clients use, finalize, download), at most CONCURRENCY orders at once, polling from 100 ms.
//
// Usage: node bare-acme-client.cjs DIRECTORY_URL CA_BUNDLE WEBROOT ACCOUNT_FILE CONCURRENCY NAME...
// ACCOUNT_FILE holds the account (key and URL) as JSON: used when it exists, registered and written when not.
const { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const https = require('node:https');
const tls = require('node:tls');
const acme = require('acme-client');

async function main() {
  const [directoryUrl, caBundle, webroot, accountFile, concurrency, ...names] = process.argv.slice(2);
  if (!names.length || !(Number(concurrency) >= 1)) throw new Error('usage: bare-acme-client.cjs DIRECTORY_URL CA_BUNDLE WEBROOT ACCOUNT_FILE CONCURRENCY NAME...');
  acme.axios.defaults.httpsAgent = new https.Agent({ keepAlive: true, ca: [...tls.rootCertificates, readFileSync(caBundle, 'utf8')] });
  const known = existsSync(accountFile) ? JSON.parse(readFileSync(accountFile, 'utf8')) : null;
  const client = new acme.Client({
    directoryUrl,
    accountKey: known ? known.keyPem : await acme.crypto.createPrivateEcdsaKey(),
    ...(known ? { accountUrl: known.url } : {}),
    backoffMin: 100,
    backoffMax: 1000,
  });
  if (!known) {
    await client.createAccount({ termsOfServiceAgreed: true });
    writeFileSync(accountFile, JSON.stringify({ keyPem: client.opts.accountKey.toString(), url: client.getAccountUrl() }));
  }
  const challengeDir = join(webroot, '.well-known', 'acme-challenge');
  mkdirSync(challengeDir, { recursive: true });

  const issueOne = async (name) => {
    const [key, csr] = await acme.crypto.createCsr({ commonName: name }, await acme.crypto.createPrivateEcdsaKey());
    const cert = await client.auto({
      csr,
      termsOfServiceAgreed: true,
      skipChallengeVerification: true,
      challengePriority: ['http-01'],
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => writeFileSync(join(challengeDir, challenge.token), keyAuthorization),
      challengeRemoveFn: async (_authz, challenge) => rmSync(join(challengeDir, challenge.token), { force: true }),
    });
    if (!cert.includes('BEGIN CERTIFICATE') || !key) throw new Error(`no certificate for ${name}`);
  };
  let next = 0;
  const worker = async () => {
    while (next < names.length) await issueOne(names[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(Number(concurrency), names.length) }, worker));
}

main().then(
  () => process.exit(0), // keep-alive sockets would otherwise hold the process open
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
