import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pemCertificateBlocks } from '../../src/pki/pem.js';
import { certificateOf, keyMatchesCertificate, opensslVerify } from '../support/certificates.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { requestText, withPebble } from '../support/pebble.js';
import type { PebbleHandle } from '../support/pebble.js';
import { tempDir } from '../support/temp-dir.js';

/** Root N of Pebble (0 signs the default chain; 1.. the alternates), from its management interface. */
async function pebbleRoot(pebble: PebbleHandle, n: number): Promise<{ pem: string; name: string }> {
  const response = await requestText(`${pebble.managementUrl}/roots/${n}`, { ca: readFileSync(pebble.caBundlePath) });
  if (response.status !== 200) throw new Error(`GET /roots/${n} answered ${response.status}`);
  const subject = new X509Certificate(response.body).subject;
  return { pem: response.body, name: /^CN=(.*)$/m.exec(subject)![1]! };
}

const lineage = (home: string, name: string) => join(home, 'live', name);
/** Every certificate of the exported full chain, leaf first. */
const fullchainOf = (home: string, name: string) => pemCertificateBlocks(readFileSync(join(lineage(home, name), 'fullchain.pem'), 'utf8')).map((block) => new X509Certificate(block));
const topIssuer = (home: string, name: string) => /^CN=(.*)$/m.exec(fullchainOf(home, name).at(-1)!.issuer)![1];

function cli(pebble: PebbleHandle, home: string) {
  return {
    issue: (name: string, extra: string[] = [], env?: Record<string, string>) =>
      runCli(['issue', name, ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos', ...extra], { home, ...(env ? { env } : {}) }),
    renew: (extra: string[]) => runCli(['renew', '--no-random-sleep', ...extra], { home }),
    show: (name: string) => runCli(['show', name], { home }),
    showJson: async (name: string) => JSON.parse((await runCli(['show', name, '--json'], { home })).stdout) as Record<string, any>,
  };
}

describe('--preferred-chain against Pebble offering three roots, each chain with three intermediates', () => {
  // Pebble 2.10 (as 2.4) counts intermediates in PEBBLE_CHAIN_LENGTH: leaf + 3 intermediates under each root.
  const pebble = withPebble({ version: 'ari', env: { PEBBLE_ALTERNATE_ROOTS: '2', PEBBLE_CHAIN_LENGTH: '3' } });
  const home = tempDir('chain');

  it('stores the chain to the root named, which openssl verifies against that root only; renew keeps the preference', async () => {
    const [root0, root2] = [await pebbleRoot(pebble(), 0), await pebbleRoot(pebble(), 2)];
    const { issue, renew, show, showJson } = cli(pebble(), home);

    const issued = await issue('alt.example.test', ['--preferred-chain', root2.name]);
    expect(issued.stderr).not.toMatch(/warning|error/);
    expect(issued.code).toBe(0);
    expect(issued.stderr).toContain(`certificate downloaded (the chain to "${root2.name}", as preferred)`);
    const chain = fullchainOf(home, 'alt.example.test');
    expect(chain).toHaveLength(4);
    expect(chain.at(-1)!.checkIssued(new X509Certificate(root2.pem))).toBe(true);
    expect(await opensslVerify(lineage(home, 'alt.example.test'), root2.pem, home)).toMatch(/cert\.pem: OK$/);
    await expect(opensslVerify(lineage(home, 'alt.example.test'), root0.pem, home)).rejects.toThrow();
    expect(await keyMatchesCertificate(lineage(home, 'alt.example.test'))).toBe(true);

    const shown = await showJson('alt.example.test');
    expect(shown.settings.preferredChain).toBe(root2.name);
    expect(shown.chainTopIssuer).toBe(root2.name);
    expect((await show('alt.example.test')).stdout).toContain(`chain:       top issuer "${root2.name}"; preferred: "${root2.name}"\n`);

    // The renewal reads the preference from the store: no flag given.
    const firstSerial = shown.serial as string;
    const renewed = await renew(['alt.example.test', '--force']);
    expect(renewed.stderr).not.toMatch(/warning|error/);
    expect(renewed.code, renewed.stderr).toBe(0);
    const after = await showJson('alt.example.test');
    expect(after.serial).not.toBe(firstSerial);
    expect(certificateOf(join(lineage(home, 'alt.example.test'), 'cert.pem')).serialNumber.toUpperCase()).toBe(after.serial);
    expect(topIssuer(home, 'alt.example.test')).toBe(root2.name);
    expect(await opensslVerify(lineage(home, 'alt.example.test'), root2.pem, home)).toMatch(/cert\.pem: OK$/);
  });

  it('keeps the default chain and warns, exit 0, when no chain leads to the name (ACMECTL_PREFERRED_CHAIN, exact case)', async () => {
    const roots = await Promise.all([0, 1, 2].map((n) => pebbleRoot(pebble(), n)));
    const { issue, show } = cli(pebble(), home);
    const wanted = roots[1]!.name.toLowerCase();
    const result = await issue('default.example.test', [], { ACMECTL_PREFERRED_CHAIN: wanted });
    expect(result.code).toBe(0);
    const offered = roots.map((r) => `"${r.name}"`).join(', ');
    expect(result.stderr).toContain(
      `warning: no chain offered by the CA has the issuer "${wanted}"; kept the default chain whose top issuer is "${roots[0]!.name}" (offered: ${offered}); the name is matched exactly, and "${roots[1]!.name}" differs in case\n`,
    );
    expect(topIssuer(home, 'default.example.test')).toBe(roots[0]!.name);
    expect(await opensslVerify(lineage(home, 'default.example.test'), roots[0]!.pem, home)).toMatch(/cert\.pem: OK$/);
    expect((await show('default.example.test')).stdout).toContain(`chain:       top issuer "${roots[0]!.name}"; preferred: "${wanted}" (the CA offered no usable chain to it`);

    // Renewing says it again, naming the certificate.
    const { renew } = cli(pebble(), home);
    const renewed = await renew(['default.example.test', '--force']);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(renewed.stderr).toContain(`warning: default.example.test: no chain offered by the CA has the issuer "${wanted}"; kept the default chain`);

    // --json carries the warning too; stdout stays one JSON document.
    const json = await issue('json.example.test', ['--preferred-chain', 'Nobody', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).warnings).toEqual([expect.stringMatching(/^no chain offered by the CA has the issuer "Nobody"; kept the default chain/)]);
  });

  it('without a preference stores the default chain, and refuses a preferred name with blanks around it (exit 2)', async () => {
    const root0 = await pebbleRoot(pebble(), 0);
    const { issue, showJson } = cli(pebble(), home);
    const plain = await issue('plain.example.test');
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain('certificate downloaded\n');
    expect(topIssuer(home, 'plain.example.test')).toBe(root0.name);
    expect(await opensslVerify(lineage(home, 'plain.example.test'), root0.pem, home)).toMatch(/cert\.pem: OK$/);
    expect((await showJson('plain.example.test')).settings.preferredChain).toBeNull();

    const blank = await issue('blank.example.test', ['--preferred-chain', ' Pebble Root CA ']);
    expect(blank.code).toBe(2);
    expect(blank.stderr).toContain('error: --preferred-chain " Pebble Root CA " starts or ends with blanks');
  });
});

describe('a chain with two intermediates', () => {
  const pebble = withPebble({ version: 'ari', env: { PEBBLE_CHAIN_LENGTH: '2' } });
  const home = tempDir('chain2');

  it('issues, and openssl verifies leaf, two intermediates and the root', async () => {
    const root = await pebbleRoot(pebble(), 0);
    const result = await cli(pebble(), home).issue('two.example.test');
    expect(result.code).toBe(0);
    expect(fullchainOf(home, 'two.example.test')).toHaveLength(3);
    expect(pemCertificateBlocks(readFileSync(join(lineage(home, 'two.example.test'), 'chain.pem'), 'utf8'))).toHaveLength(2);
    expect(await opensslVerify(lineage(home, 'two.example.test'), root.pem, home)).toMatch(/cert\.pem: OK$/);
  });
});
