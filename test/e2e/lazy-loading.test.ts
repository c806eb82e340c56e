import { freePort } from '../../scripts/lib/pebble.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { CA_PATH_MODULES, loadedModules, RECORDING_PRELOAD } from '../support/loaded-modules.js';
import { tempDir } from '../support/temp-dir.js';

/** Packages and acmectl's own dist/ modules the process loaded (support/loaded-modules.ts). */
async function modulesLoadedBy(args: string[]): Promise<string[]> {
  return (await runRecordingModules(args)).loaded;
}

async function runRecordingModules(args: string[], files: Record<string, string> = {}): Promise<{ loaded: string[]; stdout: string }> {
  const home = tempDir('lazy');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(home, name), content);
  const record = join(home, 'modules.txt');
  const { stdout } = await runCli(args, { home, env: { NODE_OPTIONS: `--require ${RECORDING_PRELOAD}`, RECORD_LOADED_MODULES: record } });
  return { stdout, loaded: loadedModules(record) };
}

/** The CA path (acmectl's signing and transport modules, or acme-client) among what was loaded. */
const caPath = (loaded: string[]): string[] => loaded.filter((module) => CA_PATH_MODULES.includes(module) || module === 'acme-client');

// Start-up time matters for a tool run from cron and in scripts: each command loads only what it uses.
describe('lazy loading', () => {
  it('--help loads neither the CA path, nor SQLite, nor the config loader', async () => {
    const loaded = await modulesLoadedBy(['--help']);
    expect(loaded).toContain('commander');
    expect(loaded).toContain('dist/cli/program.js');
    expect(caPath(loaded)).toEqual([]);
    for (const heavy of ['better-sqlite3', 'cosmiconfig']) expect(loaded).not.toContain(heavy);
  });

  it('--version loads neither the CA path, nor SQLite, nor the config loader', async () => {
    const loaded = await modulesLoadedBy(['--version']);
    expect(caPath(loaded)).toEqual([]);
    for (const heavy of ['better-sqlite3', 'cosmiconfig']) expect(loaded).not.toContain(heavy);
  });

  it('--version or -V on its own does not even load the argument parser', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const { loaded, stdout } = await runRecordingModules([flag]);
      expect(stdout).toBe(`${version}\n`);
      expect(loaded).not.toContain('commander');
    }
  });

  it('list does not load the CA path, nor the config loader when no config file can be found', async () => {
    const loaded = await modulesLoadedBy(['list']);
    expect(loaded).toContain('commander');
    expect(caPath(loaded)).toEqual([]);
    expect(loaded).not.toContain('cosmiconfig');
  });

  it('with a config file in its working directory, the config loader reads it', async () => {
    const { loaded } = await runRecordingModules(['config', 'show', '--json'], { 'acmectl.config.json': '{"concurrency": 3}' });
    expect(loaded).toContain('cosmiconfig');
  });

  // Run by the shell completions on every TAB where a certificate name is expected.
  it('the stored names for completion load neither the ACME client nor a network store client', async () => {
    const loaded = await modulesLoadedBy(['__certificate-names']);
    expect(loaded).toContain('dist/cli/commands/certificate-names.js');
    for (const heavy of ['acme-client', 'ioredis', 'node-forge']) expect(loaded).not.toContain(heavy);
  });

  it('renew and issue load node-forge only to write a PKCS#12 file', async () => {
    expect(await modulesLoadedBy(['renew'])).not.toContain('node-forge');
    expect(await modulesLoadedBy(['issue', '*.example.com'])).not.toContain('node-forge');
  });

  // The CA path's own modules are part of the issue command (a few small files, no package); what bad input must
  // not reach is the config file, the store and any package the CA path once needed.
  it('issue with bad input loads neither the config loader, nor SQLite, nor acme-client', async () => {
    const loaded = await modulesLoadedBy(['issue', '*.example.com']);
    expect(loaded).toContain('dist/cli/commands/issue.js');
    for (const heavy of ['acme-client', 'better-sqlite3', 'cosmiconfig']) expect(loaded).not.toContain(heavy);
  });

  it('issue loads acmectl\'s own CA path once it contacts a CA, and never acme-client', async () => {
    const loaded = await modulesLoadedBy(['issue', 'x.example.com', '--agree-tos', '--http-port', String(await freePort()), '--server', 'https://127.0.0.1:9/dir']);
    expect(caPath(loaded).sort()).toEqual([...CA_PATH_MODULES].sort());
  });
});
