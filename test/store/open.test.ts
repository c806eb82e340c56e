import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OperationError, UsageError } from '../../src/domain/errors.js';
import { openStore, parseStoreUrl, type StoreUrl } from '../../src/store/open.js';
import { tempDir } from '../support/temp-dir.js';

const context = { cwd: '/srv/app', homeDir: '/home/ops' };

describe('parseStoreUrl', () => {
  const accepted: Array<[string, StoreUrl]> = [
    ['sqlite:acmectl.db', { kind: 'sqlite', path: '/srv/app/acmectl.db' }],
    ['sqlite:./data/acmectl.db', { kind: 'sqlite', path: '/srv/app/data/acmectl.db' }],
    ['sqlite:../shared/acmectl.db', { kind: 'sqlite', path: '/srv/shared/acmectl.db' }],
    ['sqlite:/var/lib/acmectl/acmectl.db', { kind: 'sqlite', path: '/var/lib/acmectl/acmectl.db' }],
    ['sqlite:///var/lib/acmectl/acmectl.db', { kind: 'sqlite', path: '/var/lib/acmectl/acmectl.db' }],
    ['sqlite:/var/lib//acmectl/./acmectl.db', { kind: 'sqlite', path: '/var/lib/acmectl/acmectl.db' }],
    ['sqlite:~/acmectl.db', { kind: 'sqlite', path: '/home/ops/acmectl.db' }],
    ['SQLite:/x.db', { kind: 'sqlite', path: '/x.db' }],
    ['sqlite:with space & ?query=literal.db', { kind: 'sqlite', path: '/srv/app/with space & ?query=literal.db' }],
    ['sqlite:%41.db', { kind: 'sqlite', path: '/srv/app/%41.db' }],
    ['memory:', { kind: 'memory' }],
    ['memory://', { kind: 'memory' }],
  ];
  it.each(accepted)('%s', (url, expected) => {
    expect(parseStoreUrl(url, context)).toEqual(expected);
  });

  it('resolves a relative path against process.cwd() by default', () => {
    expect(parseStoreUrl('sqlite:x.db')).toEqual({ kind: 'sqlite', path: join(process.cwd(), 'x.db') });
  });

  const rejected: Array<[string, RegExp]> = [
    ['', /empty/],
    ['   ', /empty/],
    ['acmectl.db', /no scheme/],
    ['/var/lib/acmectl/acmectl.db', /no scheme/],
    ['sqlite:', /needs a file path/],
    ['sqlite://', /host/],
    ['sqlite://dbhost/acmectl.db', /host/],
    ['sqlite:/var/lib/acmectl/', /directory/],
    ['sqlite:a\u0000b.db', /NUL/],
    ['memory:extra', /nothing after/],
    ['mysql://user:s3cret@db/acme', /unknown store URL scheme "mysql:"/],
    ['file:/tmp/x.db', /unknown store URL scheme/],
    ['https://example.com/store', /unknown store URL scheme/],
  ];
  it.each(rejected)('%j → UsageError %s', (url, message) => {
    const error = usageErrorOf(url);
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/s3cret/);
  });

  it('lists the accepted forms for an unknown scheme', () => {
    expect(usageErrorOf('ftp://x').message).toContain('sqlite:PATH, redis://, rediss://, etcd://, consul://, consul+https://, vault://, vault+https://, memory:');
  });

  it('suggests sqlite: for what looks like a bare file path', () => {
    expect(usageErrorOf('./acmectl.db').hint).toMatch(/write sqlite: before the path/);
  });
});

describe('openStore', () => {
  const dir = tempDir('open-test');

  it('opens memory: and sqlite: stores', async () => {
    const memory = await openStore('memory:');
    expect(memory.kind).toBe('memory');
    await memory.close();
    const sqlite = await openStore(`sqlite:${join(dir, 'sub', 'acmectl.db')}`);
    expect(sqlite.kind).toBe('sqlite');
    await sqlite.put('k', new Uint8Array([1]));
    await sqlite.close();
    const reopened = await openStore(`sqlite://${join(dir, 'sub', 'acmectl.db')}`);
    expect(Array.from((await reopened.get('k'))!.value)).toEqual([1]);
    await reopened.close();
  });

  it('a bad URL rejects with UsageError (exit 2) before opening anything', async () => {
    await expect(openStore('redis://localhost:6379/0?tls_verfy=false')).rejects.toSatisfy(
      (error: unknown) => error instanceof UsageError && error.exitCode === 2,
    );
  });

  it('a file it cannot open rejects with OperationError (exit 1) naming the path', async () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, Buffer.alloc(4096, 'garbage '));
    const error = await openStore(`sqlite:${path}`).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).exitCode).toBe(1);
    expect((error as Error).message).toContain(path);
    expect((error as Error).cause).toBeDefined();
  });

  it('loading open.js does not load better-sqlite3; opening a sqlite: store does', () => {
    // Built code in a fresh process, where the module cache is not shared with vitest.
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const sqliteLoaded = () => Object.keys(require.cache).some((path) => path.includes('better-sqlite3'));
      const { openStore, parseStoreUrl } = await import('./dist/store/open.js');
      parseStoreUrl('sqlite:x.db');
      const before = sqliteLoaded();
      const store = await openStore(process.argv[1]);
      const after = sqliteLoaded();
      await store.close();
      console.log(JSON.stringify({ before, after }));
    `;
    const child = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', script, `sqlite:${join(dir, 'lazy.db')}`],
      { cwd: fileURLToPath(new URL('../../', import.meta.url)), encoding: 'utf8', timeout: 30_000 },
    );
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ before: false, after: true });
  });
});

function usageErrorOf(url: string): UsageError {
  try {
    parseStoreUrl(url, context);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return error as UsageError;
  }
  throw new Error(`parseStoreUrl(${JSON.stringify(url)}) should have thrown`);
}

import { redactStoreUrl } from '../../src/store/url-options.js';

describe('redactStoreUrl', () => {
  it.each([
    ['redis://:pw@h:6379/0', 'redis://:***@h:6379/0'],
    ['redis://user:pw@h:6379/0?prefix=a/', 'redis://user:***@h:6379/0?prefix=a/'],
    ['consul://h:8500/kv/?token=abc&timeout=5', 'consul://h:8500/kv/?token=***&timeout=5'],
    ['vault://h:8200/secret/a/?token=ab#cd', 'vault://h:8200/secret/a/?token=***'],
    ['etcd://root:p@ss@h1:2379,h2:2379/acme/', 'etcd://root:***@h1:2379,h2:2379/acme/'],
    ['sqlite:/var/lib/acmectl/acmectl.db', 'sqlite:/var/lib/acmectl/acmectl.db'],
  ])('%s', (input, expected) => {
    expect(redactStoreUrl(input)).toBe(expected);
  });
});
