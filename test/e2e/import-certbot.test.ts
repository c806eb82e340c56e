// `acmectl import certbot` with real lineages: Debian's certbot obtains them from Pebble 2.10 (ARI) in this test,
// acmectl imports them, then renews one with the imported account (naming the old certificate in `replaces`) and
// revokes another. certbot's directory is hashed before and after: acmectl only reads it.
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { certId } from '../../src/acme/ari.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { withPebble } from '../support/pebble.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);
// One profile: Pebble 2.10 gives an order without a profile a random one. No nonce rejected on purpose: Debian's
// certbot 2.1 on Python 3.11 crashes ("AttributeError: can't set attribute", certbot#9539) on any error answer of
// a CA, the badNonce Pebble sends to 5% of requests by default included.
const pebble = withPebble({ version: 'ari', profiles: { classic: { description: '90 days', validityPeriod: 90 * 86_400 } }, env: { PEBBLE_WFE_NONCEREJECT: '0' } });

const work = tempDir('certbot');
const certbotDir = join(work, 'letsencrypt');
const webroot = join(work, 'www');
const hookLog = join(work, 'hooks.log');
const home = join(work, 'acmectl');

/** certbot with everything under the test's directory, trusting Pebble's HTTPS certificate. */
async function certbot(args: string[]): Promise<void> {
  const common = ['--config-dir', certbotDir, '--work-dir', join(work, 'certbot-work'), '--logs-dir', join(work, 'certbot-logs'), '--server', pebble().directoryUrl, '--non-interactive'];
  const env = { ...process.env, REQUESTS_CA_BUNDLE: pebble().caBundlePath, HOME: work };
  try {
    await exec('certbot', [...args, ...common], { env, timeout: 120_000 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`certbot ${args.join(' ')} failed:\n${stdout}\n${stderr}\n${pebble().logs(40)}`);
  }
}

/** A web server that serves `webroot` on the port where Pebble validates (what nginx would do). */
async function serveWebroot<T>(during: () => Promise<T>): Promise<T> {
  const server: Server = createServer((request, response) => {
    const path = join(webroot, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    if (path.startsWith(`${webroot}/`) && existsSync(path)) response.end(readFileSync(path));
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(pebble().httpPort, '127.0.0.1', resolve));
  try {
    return await during();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Every path under the directory with its type, mode, link target or content hash: any change shows. */
function fingerprint(dir: string): string {
  const lines: string[] = [];
  const walk = (path: string): void => {
    const stat = lstatSync(path);
    const what = stat.isSymbolicLink() ? `-> ${readlinkSync(path)}` : stat.isDirectory() ? 'dir' : createHash('sha256').update(readFileSync(path)).digest('hex');
    lines.push(`${relative(dir, path)} ${(stat.mode & 0o7777).toString(8)} ${stat.mtimeMs} ${what}`);
    if (stat.isDirectory()) for (const entry of readdirSync(path).sort()) walk(join(path, entry));
  };
  walk(dir);
  return lines.join('\n');
}

const cli = (args: string[]) => runCli([...args, '--ca-bundle', pebble().caBundlePath], { home });
const json = async <T>(args: string[]): Promise<T> => {
  const result = await runCli([...args, '--json'], { home });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
};
const serialOf = (path: string) => new X509Certificate(readFileSync(path)).serialNumber.toUpperCase();
const hooks = (name: string) => [
  '--pre-hook', `echo "pre ${name}" >> ${hookLog}`,
  '--post-hook', `echo "post ${name}" >> ${hookLog}`,
  '--deploy-hook', `echo "deploy $RENEWED_LINEAGE" >> ${hookLog}`,
];

let accountUrl: string;
let before: string;

beforeAll(async () => {
  mkdirSync(webroot, { recursive: true });
  mkdirSync(home);
  const account = ['--agree-tos', '-m', 'x@example.com', '--no-eff-email'];
  // A standalone lineage with two names and an EC P-384 key, renewed once: its archive holds versions 1 and 2.
  await certbot(['certonly', ...account, '--standalone', '--http-01-port', String(pebble().httpPort), '--http-01-address', '127.0.0.1',
    '-d', 'alone.example.test', '-d', 'www.alone.example.test', '--key-type', 'ecdsa', '--elliptic-curve', 'secp384r1', ...hooks('alone')]);
  await certbot(['renew', '--force-renewal', '--cert-name', 'alone.example.test', '--no-random-sleep-on-renew']);
  // A webroot lineage with an RSA 3072 key.
  await serveWebroot(() => certbot(['certonly', '--webroot', '-w', webroot, '-d', 'web.example.test', '--key-type', 'rsa', '--rsa-key-size', '3072']));
  // A lineage certbot renews through a DNS plugin (Debian's certbot has none installed: its files are made from
  // the webroot lineage's, as the plugin would have left them).
  cpSync(join(certbotDir, 'archive', 'web.example.test'), join(certbotDir, 'archive', 'dns.example.test'), { recursive: true });
  cpSync(join(certbotDir, 'live', 'web.example.test'), join(certbotDir, 'live', 'dns.example.test'), { recursive: true, verbatimSymlinks: true });
  const webConf = readFileSync(join(certbotDir, 'renewal', 'web.example.test.conf'), 'utf8');
  writeFileSync(
    join(certbotDir, 'renewal', 'dns.example.test.conf'),
    webConf
      .replaceAll('web.example.test', 'dns.example.test')
      .replace(/authenticator = webroot[\s\S]*$/, 'authenticator = dns-cloudflare\ndns_cloudflare_credentials = /root/.secrets/cloudflare.ini\n'),
  );
  accountUrl = JSON.parse(readFileSync(readdirSync(join(certbotDir, 'accounts'), { recursive: true, encoding: 'utf8' }).map((p) => join(certbotDir, 'accounts', p)).find((p) => p.endsWith('regr.json'))!, 'utf8')).uri;
  before = fingerprint(certbotDir);
}, 300_000);

interface Plan {
  ok: boolean;
  dryRun: boolean;
  lineages: { name: string; action: string; reason: string | null; domains: string[]; versions: number[]; settings: Record<string, unknown> | null; accountUrl: string | null; files: { dir: string } | null }[];
  accounts: { url: string; action: string }[];
  nextSteps: string[];
}
interface Shown {
  domains: string[];
  serial: string;
  status: string;
  version: number;
  versions: { version: number; serial: string }[];
  settings: Record<string, unknown>;
}

describe('acmectl import certbot', () => {
  it('refuses a directory that is not certbot\'s (exit 2), creating no store', async () => {
    const result = await cli(['import', 'certbot', webroot]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: ${webroot} is not a certbot configuration directory: it has no renewal/ folder`);
    expect(readdirSync(home)).toEqual([]);
  });

  it('shows the plan with --dry-run, each lineage with its mapping or why it is left alone, and writes nothing', async () => {
    const result = await cli(['import', 'certbot', certbotDir, '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout) as Plan;
    expect(plan).toMatchObject({ ok: true, dryRun: true, nextSteps: [] });
    expect(plan.lineages.map((l) => [l.name, l.action])).toEqual([
      ['alone.example.test', 'import'],
      ['dns.example.test', 'skipped'],
      ['web.example.test', 'import'],
    ]);
    const [alone, dns, web] = plan.lineages;
    expect(alone).toMatchObject({
      domains: ['alone.example.test', 'www.alone.example.test'],
      versions: [2, 1],
      accountUrl,
      settings: {
        server: pebble().directoryUrl,
        challenge: 'standalone',
        httpPort: pebble().httpPort,
        httpAddress: '127.0.0.1',
        keyType: 'ec384',
        hooks: { pre: `echo "pre alone" >> ${hookLog}`, post: `echo "post alone" >> ${hookLog}`, deploy: `echo "deploy $RENEWED_LINEAGE" >> ${hookLog}`, failure: null },
      },
    });
    expect(dns!.reason).toBe('authenticator dns-cloudflare answers DNS-01 challenges; acmectl answers HTTP-01 only (standalone or webroot)');
    expect(web).toMatchObject({ domains: ['web.example.test'], versions: [1], settings: { challenge: 'webroot', webroot, keyType: 'rsa3072' } });
    expect(plan.accounts).toEqual([expect.objectContaining({ url: accountUrl, action: 'import' })]);
    expect(readdirSync(home)).toEqual([]);

    // --server changes nothing: each lineage keeps its own CA.
    const human = await cli(['import', 'certbot', certbotDir, '--dry-run', '--server', 'letsencrypt-staging']);
    expect(human.stderr).toContain('warning: --server is not used: each lineage keeps the CA its renewal configuration names');
    expect(human.stdout).toMatch(/^dry run: nothing was written\. certbot lineages in .*: 2 to import, 1 left alone$/m);
    expect(human.stdout).toMatch(/^ {2}– dns\.example\.test: left alone: authenticator dns-cloudflare answers DNS-01/m);
    expect(human.stdout).toMatch(/^ {6}renews with: standalone on port \d+ \(127\.0\.0\.1\), ec384, server https:\/\/localhost:\d+\/dir, pre hook /m);
    expect(readdirSync(home)).toEqual([]);
  });

  it('imports the lineages with their history, account and files, says what to do next, and leaves certbot\'s files as they were', async () => {
    const result = await cli(['import', 'certbot', certbotDir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/: 2 imported, 1 left alone$/m);
    expect(result.stdout).toContain('systemctl disable --now certbot.timer');
    expect(result.stdout).toContain('/etc/cron.d/certbot');
    expect(result.stdout).toContain(`${join(certbotDir, 'live', 'alone.example.test')}/ → ${join(home, 'live', 'alone.example.test')}/`);
    expect(result.stdout).toMatch(/acmectl renew now renews them/);

    // The files are certbot's current version, written where acmectl exports.
    const live = join(home, 'live', 'alone.example.test');
    const certbotLive = join(certbotDir, 'live', 'alone.example.test');
    for (const file of ['cert.pem', 'chain.pem', 'fullchain.pem']) expect(readFileSync(join(live, file), 'utf8'), file).toBe(readFileSync(join(certbotLive, file), 'utf8'));
    const publicKey = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' });
    expect(publicKey(readFileSync(join(live, 'privkey.pem'), 'utf8'))).toEqual(publicKey(readFileSync(join(certbotLive, 'privkey.pem'), 'utf8')));
    expect(lstatSync(join(live, 'privkey.pem')).mode & 0o777).toBe(0o600);

    const list = await json<{ certificates: { name: string; domains: string[] }[] }>(['list']);
    expect(list.certificates.map((c) => [c.name, c.domains])).toEqual([
      ['alone.example.test', ['alone.example.test', 'www.alone.example.test']],
      ['web.example.test', ['web.example.test']],
    ]);
    const alone = await json<Shown>(['show', 'alone.example.test']);
    const archive = join(certbotDir, 'archive', 'alone.example.test');
    expect(alone.versions).toEqual([
      expect.objectContaining({ version: 2, serial: serialOf(join(archive, 'cert2.pem')) }),
      expect.objectContaining({ version: 1, serial: serialOf(join(archive, 'cert1.pem')) }),
    ]);
    const accounts = await json<{ accounts: { url: string }[] }>(['account', 'list']);
    expect(accounts.accounts.map((a) => a.url)).toEqual([accountUrl]);

    // A second import finds them there.
    const again = await json<Plan>(['import', 'certbot', certbotDir]);
    expect(again.lineages.map((l) => [l.name, l.action, l.reason])).toEqual([
      ['alone.example.test', 'skipped', 'already imported: the store holds this certificate under this name'],
      ['dns.example.test', 'skipped', expect.stringContaining('dns-cloudflare')],
      ['web.example.test', 'skipped', 'already imported: the store holds this certificate under this name'],
    ]);
    expect(fingerprint(certbotDir)).toBe(before);
  });

  it('revokes a certificate certbot obtained with certbot\'s account, and renews it through the webroot', async () => {
    const revoked = await runCli(['revoke', 'web.example.test'], { home });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await json<Shown>(['show', 'web.example.test'])).status).toBe('revoked');

    const renewed = await serveWebroot(() => runCli(['renew', '--no-random-sleep'], { home }));
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(renewed.stdout).toMatch(/1 renewed, 1 not due, 0 failed/);
    const web = await json<Shown>(['show', 'web.example.test']);
    expect(web).toMatchObject({ version: 2, status: 'valid' });
    expect(new X509Certificate(readFileSync(join(home, 'live', 'web.example.test', 'cert.pem'))).publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(fingerprint(certbotDir)).toBe(before);
  });

  it('renews an imported lineage with certbot\'s account, replacing the old certificate (ARI), and runs its hooks', async () => {
    const old = readFileSync(join(certbotDir, 'live', 'alone.example.test', 'cert.pem'), 'utf8');
    const result = await runCli(['renew', 'alone.example.test', '--force', '--no-random-sleep'], { home });
    expect(result.code, `${result.stderr}\n${pebble().logs(30)}`).toBe(0);
    expect(result.stderr).toContain(`using account ${accountUrl}`);
    expect(result.stderr).toContain(`order created for alone.example.test, www.alone.example.test, replacing ${certId(old)}`);
    // Pebble took the order as a replacement of certbot's (it checks the old certificate's account is this one).
    const orderOf = (serial: string) => [...pebble().logs(2000).matchAll(/Issued certificate serial ([0-9a-f]+) for order (\S+)/g)].find((m) => BigInt(`0x${m[1]}`) === BigInt(`0x${serial}`))?.[2];
    expect(result.stderr).not.toMatch(/warning/);
    const shown = await json<Shown>(['show', 'alone.example.test']);
    expect(shown.versions.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(serialOf(join(home, 'live', 'alone.example.test', 'cert.pem'))).toBe(shown.serial);
    expect(pebble().logs(2000)).toContain(`ARI: order "${orderOf(shown.serial)}" is a replacement of "${orderOf(serialOf(join(certbotDir, 'live', 'alone.example.test', 'cert.pem')))}"`);
    expect(readFileSync(hookLog, 'utf8').split('\n').slice(-4)).toEqual(['pre alone', `deploy ${join(home, 'live', 'alone.example.test')}`, 'post alone', '']);

    expect(fingerprint(certbotDir)).toBe(before);
  });

});
