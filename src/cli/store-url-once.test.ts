/**
 * A command parses its store URL once: the URL's secret files are read once (a token file rotated or removed
 * between two reads would otherwise give one command two answers), and the --ca-bundle, read only when the
 * store is opened, still reaches the store's TLS connections.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { root, leafWith } from '../../test/support/test-pki.js';
import { startConsulStandin, type ConsulStandin } from '../../test/support/consul-standin.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { storeCopy } from './commands/store-copy.js';
import { buildContext } from './context.js';
import { Reporter } from './reporter.js';

// Every readFileSync of the modules under test goes through this spy, so the test can count reads of a file.
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, readFileSync: vi.fn(actual.readFileSync) };
});
const readsOf = (path: string): number => vi.mocked(fs.readFileSync).mock.calls.filter(([file]) => file === path).length;

const TOKEN = 'consul-acl-token-for-this-test';
const scratch = tempDir('store-url-once');
let standin: ConsulStandin;
let tlsStandin: ConsulStandin;
let caBundlePath: string;
let configPath: string;

beforeAll(async () => {
  standin = await startConsulStandin({ token: TOKEN });
  // A certificate for consul.test only, from a private root: the store is reachable only with --ca-bundle.
  const authority = root('Store Test Root');
  const server = leafWith({ dns: ['consul.test'], issuer: authority });
  tlsStandin = await startConsulStandin({ token: TOKEN, tls: { key: server.keyPem!, cert: server.pem } });
  caBundlePath = join(scratch, 'ca-bundle.pem');
  fs.writeFileSync(caBundlePath, authority.pem);
  // An explicit, empty config file: no config file found around the test's working directory counts.
  configPath = join(scratch, 'acmectl.config.json');
  fs.writeFileSync(configPath, '{}');
});
afterAll(async () => {
  await standin?.stop();
  await tlsStandin?.stop();
});

function tokenFile(name: string): string {
  const path = join(scratch, name);
  fs.writeFileSync(path, `${TOKEN}\n`);
  return path;
}

async function quietReporter(): Promise<Reporter> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream;
  return Reporter.create({ json: true, stdout: sink, stderr: sink, env: {} });
}

describe('a command parses its store URL once', () => {
  it('reads a token file once from building the context to opening the store', async () => {
    const file = tokenFile('token-once');
    const ctx = await buildContext({ config: configPath, store: `${standin.url}?token_file=${file}` }, {}, await quietReporter(), new AbortController().signal, {});
    const store = await ctx.openStore();
    try {
      expect(readsOf(file)).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('opens the store after the token file is gone: what was read when the URL was checked is used', async () => {
    const file = tokenFile('token-removed');
    const ctx = await buildContext({ config: configPath, store: `${standin.url}?token_file=${file}` }, {}, await quietReporter(), new AbortController().signal, {});
    fs.unlinkSync(file);
    const store = await ctx.openStore();
    try {
      expect((await store.put('once/k', new TextEncoder().encode('v'))).ok).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('trusts the --ca-bundle on the store it opens, keeping the token the URL named', async () => {
    const file = tokenFile('token-tls');
    const url = `${tlsStandin.url}?servername=consul.test&token_file=${file}`;
    const ctx = await buildContext({ config: configPath, store: url, caBundle: caBundlePath }, {}, await quietReporter(), new AbortController().signal, {});
    const store = await ctx.openStore();
    try {
      expect((await store.put('tls/k', new TextEncoder().encode('v'))).ok).toBe(true);
      expect(tlsStandin.requests.at(-1)?.token).toBe(TOKEN);
    } finally {
      await store.close();
    }
  });

  it('store copy reads the token files of --from and --to once each', async () => {
    const fromFile = tokenFile('token-from');
    const toFile = tokenFile('token-to');
    const code = await storeCopy({
      args: [],
      options: { from: `${standin.url}?token_file=${fromFile}`, to: `${tlsStandin.url}?servername=consul.test&token_file=${toFile}` },
      global: { config: configPath, store: 'memory:', caBundle: caBundlePath },
      reporter: await quietReporter(),
      signal: new AbortController().signal,
    });
    expect(code).toBe(0);
    expect(readsOf(fromFile)).toBe(1);
    expect(readsOf(toFile)).toBe(1);
  });

  it('store copy without --from reads the token file of --store once', async () => {
    const file = tokenFile('token-store');
    const code = await storeCopy({
      args: [],
      options: { to: 'memory:' },
      global: { config: configPath, store: `${standin.url}?token_file=${file}` },
      reporter: await quietReporter(),
      signal: new AbortController().signal,
    });
    expect(code).toBe(0);
    expect(readsOf(file)).toBe(1);
  });
});
