// Baseline for the issue benchmark: the least a Node program can do to get a certificate with acme-client
// (fresh process, new account, one name, own port-80-style responder, auto() with fast polling).
// Usage: node bare-acme-client.cjs DIRECTORY_URL CA_BUNDLE HTTP_PORT NAME
const { readFileSync } = require('node:fs');
const { createServer } = require('node:http');
const https = require('node:https');
const tls = require('node:tls');
const acme = require('acme-client');

async function main() {
  const [directoryUrl, caBundle, httpPort, name] = process.argv.slice(2);
  acme.axios.defaults.httpsAgent = new https.Agent({ ca: [...tls.rootCertificates, readFileSync(caBundle, 'utf8')] });
  const answers = new Map();
  const server = createServer((req, res) => {
    const token = (req.url || '').split('/').pop();
    res.writeHead(answers.has(token) ? 200 : 404).end(answers.get(token) || '');
  });
  await new Promise((resolve) => server.listen(Number(httpPort), '127.0.0.1', resolve));
  const client = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey(), backoffMin: 100, backoffMax: 1000 });
  const [key, csr] = await acme.crypto.createCsr({ commonName: name }, await acme.crypto.createPrivateEcdsaKey());
  const cert = await client.auto({
    csr,
    termsOfServiceAgreed: true,
    skipChallengeVerification: true,
    challengePriority: ['http-01'],
    challengeCreateFn: async (_authz, challenge, keyAuthorization) => void answers.set(challenge.token, keyAuthorization),
    challengeRemoveFn: async (_authz, challenge) => void answers.delete(challenge.token),
  });
  server.close();
  if (!cert.includes('BEGIN CERTIFICATE') || !key) throw new Error('no certificate');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
