import { freePort } from '../../scripts/lib/pebble.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

const preload = fileURLToPath(new URL('../support/record-loaded-modules.cjs', import.meta.url));

/** Package names the process loaded (a request is a bare name or, for ESM importing CommonJS, a path). */
async function modulesLoadedBy(args: string[]): Promise<string[]> {
  return (await runRecordingModules(args)).loaded;
}

async function runRecordingModules(args: string[]): Promise<{ loaded: string[]; stdout: string }> {
  const home = tempDir('lazy');
  const record = join(home, 'modules.txt');
  const { stdout } = await runCli(args, { home, env: { NODE_OPTIONS: `--require ${preload}`, RECORD_LOADED_MODULES: record } });
  const requests = readFileSync(record, 'utf8').split('\n');
  return { stdout, loaded: [...new Set(requests.map((request) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(request)?.[1] ?? request))] };
}

// Start-up time matters for a tool run from cron and in scripts: each command loads only what it uses.
describe('lazy loading', () => {
  it('--help loads neither the ACME client, nor SQLite, nor the config loader', async () => {
    const loaded = await modulesLoadedBy(['--help']);
    expect(loaded).toContain('commander');
    // (ESM-only packages such as ora never pass through Module._load, so they cannot be checked this way.)
    for (const heavy of ['acme-client', 'better-sqlite3', 'cosmiconfig']) expect(loaded).not.toContain(heavy);
  });

  it('--version loads neither the ACME client, nor SQLite, nor the config loader', async () => {
    const loaded = await modulesLoadedBy(['--version']);
    for (const heavy of ['acme-client', 'better-sqlite3', 'cosmiconfig']) expect(loaded).not.toContain(heavy);
  });

  it('--version or -V on its own does not even load the argument parser', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const { loaded, stdout } = await runRecordingModules([flag]);
      expect(stdout).toBe(`${version}\n`);
      expect(loaded).not.toContain('commander');
    }
  });

  it('list does not load the ACME client', async () => {
    const loaded = await modulesLoadedBy(['list']);
    expect(loaded).toContain('cosmiconfig');
    expect(loaded).not.toContain('acme-client');
  });

  // Run by the shell completions on every TAB where a certificate name is expected.
  it('the stored names for completion load neither the ACME client nor a network store client', async () => {
    const loaded = await modulesLoadedBy(['__certificate-names']);
    expect(loaded).toContain('cosmiconfig');
    for (const heavy of ['acme-client', 'ioredis', 'node-forge']) expect(loaded).not.toContain(heavy);
  });

  it('renew and issue load node-forge only to write a PKCS#12 file', async () => {
    expect(await modulesLoadedBy(['renew'])).not.toContain('node-forge');
    expect(await modulesLoadedBy(['issue', '*.example.com'])).not.toContain('node-forge');
  });

  it('issue with bad input does not load the ACME client', async () => {
    expect(await modulesLoadedBy(['issue', '*.example.com'])).not.toContain('acme-client');
  });

  it('issue loads the ACME client once it contacts a CA', async () => {
    expect(await modulesLoadedBy(['issue', 'x.example.com', '--agree-tos', '--http-port', String(await freePort()), '--server', 'https://127.0.0.1:9/dir'])).toContain('acme-client');
  });
});
