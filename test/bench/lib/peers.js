// The other ACME clients of the single-certificate part, from Debian: installed by the bench when missing,
// each in a directory of its own, trusting Pebble's CA, answering HTTP-01 through the shared webroot.
// One that cannot be installed or made to work is reported missing, never replaced by something else.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCommandsInstalled, findExecutable, runCommand } from '../../../scripts/lib/pebble.js';
import { cleanEnv } from './child.js';

const EMAIL = 'bench@example.com';
const SYSTEM_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * @typedef {object} Peer
 * @property {string} id
 * @property {string} label short name in ratios ("uacme")
 * @property {string} what the row's text, with the version
 * @property {(name: string) => { command: string, args: string[], env: Record<string, string> }} issueCommand
 *   one certificate for a fresh name, the account already registered
 * @property {(name: string) => string} certificatePath where the certificate is afterwards
 */

/**
 * @typedef {object} PeerContext
 * @property {string} dir this peer's own directory (config, account, certificates, HOME)
 * @property {{ directoryUrl: string, caBundlePath: string }} pebble
 * @property {string} webroot
 */

/** @type {Record<string, { install: () => Promise<void>, setUp: (context: PeerContext) => Promise<Peer> }>} */
export const PEERS = {
  uacme: { install: () => aptInstall('uacme', ['uacme', 'unshare', 'mount']), setUp: setUpUacme },
  certbot: { install: () => aptInstall('certbot', ['certbot']), setUp: setUpCertbot },
  lego: { install: () => aptInstall('lego', ['lego']), setUp: setUpLego },
};

/** @param {string} aptPackage @param {string[]} commands */
function aptInstall(aptPackage, commands) {
  return ensureCommandsInstalled({
    commands,
    aptPackage,
    extraDirs: ['/usr/sbin', '/sbin', '/usr/bin'],
    manualInstructions: `install the Debian package ${aptPackage} (apt-get install ${aptPackage}) and run the bench again`,
    log: (line) => process.stderr.write(`${line}\n`),
  });
}

/** @param {string} command @param {string[]} args @param {Record<string, string>} env */
async function mustRun(command, args, env) {
  const result = await runCommand(command, args, { env });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.code}): ${result.output.trim().split('\n').slice(-5).join(' / ')}`);
  return result.output;
}

/**
 * The installed Debian package's version ("4.9.1-1"): Debian's lego calls itself "dev", so the package says it
 * for all of them.
 * @param {string} aptPackage
 */
async function packageVersion(aptPackage) {
  const result = await runCommand('dpkg-query', ['-W', '-f=${Version}', aptPackage]);
  return result.code === 0 && result.output.trim() ? result.output.trim() : 'version unknown';
}

/**
 * uacme has no option or environment variable for the CA to trust (`man uacme`; it reads libcurl-gnutls's
 * compiled-in /etc/ssl/certs/ca-certificates.crt, and neither CURL_CA_BUNDLE nor SSL_CERT_FILE changes that).
 * So it runs in a mount namespace of its own where that file is the system bundle plus Pebble's CA: nothing on
 * the machine changes. The wrapper (unshare, sh, mount) is timed with uacme; the bench measures it alone too.
 * @param {PeerContext} context
 * @returns {Promise<Peer & { wrapperCommand: () => { command: string, args: string[], env: Record<string, string> } }>}
 */
async function setUpUacme({ dir, pebble, webroot }) {
  if (!existsSync(SYSTEM_CA_FILE)) throw new Error(`${SYSTEM_CA_FILE} does not exist: no file to give uacme Pebble's CA through`);
  const uacme = /** @type {string} */ (await findExecutable('uacme'));
  const confdir = join(dir, 'conf');
  mkdirSync(confdir, { recursive: true });
  const bundle = join(dir, 'ca-bundle.pem');
  writeFileSync(bundle, `${readFileSync(SYSTEM_CA_FILE, 'utf8')}\n${readFileSync(pebble.caBundlePath, 'utf8')}`);
  const hook = join(dir, 'http01-hook.sh');
  // uacme's own example hook (man uacme), writing to the shared webroot.
  writeFileSync(
    hook,
    [
      '#!/bin/sh',
      `CHALLENGE_PATH='${join(webroot, '.well-known', 'acme-challenge')}'`,
      '[ "$2" = http-01 ] || exit 1',
      'case "$1" in',
      '  begin) mkdir -p "$CHALLENGE_PATH" && printf %s "$5" > "$CHALLENGE_PATH/$4" ;;',
      '  done|failed) rm -f "$CHALLENGE_PATH/$4" ;;',
      '  *) exit 1 ;;',
      'esac',
      '',
    ].join('\n'),
  );
  chmodSync(hook, 0o755);
  const isRoot = process.getuid?.() === 0;
  const env = cleanEnv(dir);
  // root: a mount namespace; anyone else: a user namespace as well, in which they may bind-mount.
  const inNamespace = (program, args) => ({
    command: 'unshare',
    args: [...(isRoot ? [] : ['--map-root-user']), '--mount', '--propagation', 'private', 'sh', '-c', `mount --bind "$0" '${SYSTEM_CA_FILE}' && exec "$@"`, bundle, program, ...args],
    env,
  });
  const common = ['-c', confdir, '-a', pebble.directoryUrl, '-t', 'EC', '-b', '256'];
  const created = inNamespace(uacme, [...common, '-y', 'new', EMAIL]);
  await mustRun(created.command, created.args, created.env);
  return {
    id: 'uacme',
    label: 'uacme',
    what: `uacme ${await packageVersion('uacme')} (C; hook script writes the token file)`,
    issueCommand: (name) => inNamespace(uacme, [...common, '-o', '-h', hook, 'issue', name]),
    certificatePath: (name) => join(confdir, name, 'cert.pem'),
    wrapperCommand: () => inNamespace('true', []),
  };
}

/** certbot: --webroot; trusts Pebble through REQUESTS_CA_BUNDLE; config, work and logs in its own directory. */
async function setUpCertbot({ dir, pebble, webroot }) {
  const dirs = ['--config-dir', join(dir, 'config'), '--work-dir', join(dir, 'work'), '--logs-dir', join(dir, 'logs')];
  const env = cleanEnv(dir, { REQUESTS_CA_BUNDLE: pebble.caBundlePath });
  await mustRun('certbot', ['register', '--non-interactive', '--agree-tos', '--no-eff-email', '-m', EMAIL, '--server', pebble.directoryUrl, ...dirs], env);
  return {
    id: 'certbot',
    label: 'certbot',
    what: `certbot ${await packageVersion('certbot')} (Python; --webroot)`,
    issueCommand: (name) => ({
      command: 'certbot',
      args: ['certonly', '--non-interactive', '--webroot', '-w', webroot, '-d', name, '--server', pebble.directoryUrl, '--key-type', 'ecdsa', '--elliptic-curve', 'secp256r1', ...dirs],
      env,
    }),
    certificatePath: (name) => join(dir, 'config', 'live', name, 'cert.pem'),
  };
}

/** lego: --http --http.webroot; trusts Pebble through LEGO_CA_CERTIFICATES; the account is made by its first run. */
async function setUpLego({ dir, pebble, webroot }) {
  const env = cleanEnv(dir, { LEGO_CA_CERTIFICATES: pebble.caBundlePath });
  const path = join(dir, 'lego');
  return {
    id: 'lego',
    label: 'lego',
    what: `lego ${await packageVersion('lego')} (Go; --http.webroot)`,
    issueCommand: (name) => ({
      command: 'lego',
      args: ['--accept-tos', '--email', EMAIL, '--server', pebble.directoryUrl, '--path', path, '--http', '--http.webroot', webroot, '--key-type', 'ec256', '-d', name, 'run'],
      env,
    }),
    certificatePath: (name) => join(path, 'certificates', `${name}.crt`),
  };
}
