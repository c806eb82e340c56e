// The Redis store against a real redis-server (test/support/redis-server.ts): the shared contract suite
// (including two OS processes racing through the built code, so run `npx tsc -p tsconfig.build.json` first),
// then what only Redis has: passwords and ACL users, prefixes and databases, TLS, a server that goes away.
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationError } from '../../src/domain/errors.js';
import { openStore, type StoreUrlContext } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { startRedis, type RedisServerHandle } from '../support/redis-server.js';
import { tempDir } from '../support/temp-dir.js';
import { describeStoreContract } from './contract.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
/** No environment, so a developer's own ACMECTL_STORE_PASSWORD cannot change what a test means. */
const noEnv: StoreUrlContext = { env: {} };

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const found: string[] = [];
  for await (const key of keys) found.push(key);
  return found;
}

/** Runs `open`, which must fail; returns its OperationError after checking the secret appears nowhere in it. */
async function expectOperationError(open: () => Promise<unknown>, secret?: string): Promise<OperationError> {
  const error = await open().then(
    () => {
      throw new Error('the operation should have failed');
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(OperationError);
  const operationError = error as OperationError;
  expect(operationError.exitCode).toBe(1);
  if (secret !== undefined) {
    const everything = [inspect(operationError, { depth: 10, showHidden: true }), ...textsIn(operationError)].join('\n');
    expect(everything).not.toContain(secret);
  }
  return operationError;
}

/**
 * Every string reachable from `value` (message, stack, hint, cause, any property, enumerable or not), with bytes
 * decoded as UTF-8: a client library may attach a failed command's arguments to its error as Buffers.
 */
function textsIn(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') return [value];
  if (value instanceof Uint8Array) return [Buffer.from(value).toString('utf8')];
  if (typeof value !== 'object' || value === null || seen.has(value)) return [];
  seen.add(value);
  return Object.getOwnPropertyNames(value).flatMap((name) => textsIn((value as Record<string, unknown>)[name], seen));
}

/** Every key on the server, straight from Redis. */
async function allRedisKeys(url: string, password?: string): Promise<string[]> {
  const admin = new Redis(url, { lazyConnect: true, ...(password ? { password } : {}) });
  try {
    await admin.connect();
    return (await admin.keys('*')).sort();
  } finally {
    admin.disconnect();
  }
}

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.dispose();
});

describeStoreContract('redis', {
  open: () => openStore(server.url, noEnv),
  url: () => server.url,
});

describe('Redis store: passwords and users', () => {
  const password = 'pw-Z8q!secret-redis';
  let secured: RedisServerHandle;
  const scratch = tempDir('redis-test');
  beforeAll(async () => {
    secured = await startRedis({ password });
  });
  afterAll(async () => {
    await secured?.dispose();
  });
  const withPassword = (secret: string): string => secured.url.replace('redis://', `redis://:${encodeURIComponent(secret)}@`);

  async function roundTrip(store: Store): Promise<void> {
    try {
      const written = await store.put('certs/example.com', encode('secured'));
      expect(written.ok).toBe(true);
      expect(decode((await store.get('certs/example.com'))!.value)).toBe('secured');
    } finally {
      await store.close();
    }
  }

  it('authenticates with the password in the URL', async () => {
    await roundTrip(await openStore(withPassword(password), noEnv));
  });

  it('authenticates with the password from ACMECTL_STORE_PASSWORD', async () => {
    await roundTrip(await openStore(secured.url, { env: { ACMECTL_STORE_PASSWORD: password } }));
  });

  it('authenticates with the password from ?password_file=', async () => {
    const file = join(scratch, 'password');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    await roundTrip(await openStore(`${secured.url}?password_file=${encodeURIComponent(file)}`, noEnv));
  });

  it('authenticates an ACL user by name and password', async () => {
    const admin = new Redis(secured.url, { password, lazyConnect: true });
    await admin.connect();
    try {
      await admin.call('ACL', 'SETUSER', 'acme', 'on', '>acme-user-secret', '~team/*', '+@all');
    } finally {
      admin.disconnect();
    }
    await roundTrip(await openStore(secured.url.replace('redis://', 'redis://acme:acme-user-secret@') + '?prefix=team/', noEnv));
    // The same user outside the keys its ACL allows: refused, and the message says so.
    const outside = await openStore(secured.url.replace('redis://', 'redis://acme:acme-user-secret@') + '?prefix=other/', noEnv);
    try {
      const error = await expectOperationError(() => outside.put('k', encode('v')), 'acme-user-secret');
      expect(error.message).toMatch(/NOPERM/);
    } finally {
      await outside.close();
    }
  });

  it('a wrong password: OperationError naming the store, with a hint, and without the password anywhere', async () => {
    const wrong = 'wrong-Pw-4711-secret';
    const error = await expectOperationError(() => openStore(withPassword(wrong), noEnv), wrong);
    expect(error.message).toContain(`redis://:***@127.0.0.1:${secured.port}/0`);
    expect(error.message).toMatch(/WRONGPASS/);
    expect(error.hint).toMatch(/password/);
    // The right password must not leak either, e.g. through the client's options.
    const fromEnv = await expectOperationError(
      () => openStore(`${secured.url}?prefix=x/`, { env: { ACMECTL_STORE_PASSWORD: wrong } }),
      wrong,
    );
    expect(fromEnv.message).toMatch(/WRONGPASS/);
  });

  it('no password for a server that wants one: OperationError saying authentication is required', async () => {
    const error = await expectOperationError(() => openStore(secured.url, noEnv));
    expect(error.message).toMatch(/NOAUTH/);
  });

  it('an operation failing on an authenticated store never shows the password', async () => {
    const store = await openStore(withPassword(password), noEnv);
    try {
      const admin = new Redis(secured.url, { password, lazyConnect: true });
      await admin.connect();
      // A key of the wrong type where the entry should be makes the read fail on the server.
      await admin.set('acmectl/kv/wrong-type', 'a plain string');
      admin.disconnect();
      const error = await expectOperationError(() => store.get('wrong-type'), password);
      expect(error.message).toMatch(/WRONGTYPE/);
      expect(error.message).toContain('redis://:***@');
      // A value that contains a secret (a private key, say) must not leak through the error either.
      const secretValue = 'BEGIN PRIVATE KEY secret-bytes-0xC0FFEE';
      await expectOperationError(() => store.put('wrong-type', encode(secretValue), { ifRev: '1' }), secretValue);
    } finally {
      await store.close();
    }
  });
});

describe('Redis store: namespaces', () => {
  it('two prefixes on one server never see each other’s entries or locks, and every key lives under its prefix', async () => {
    // Glob characters in the prefix itself must not let one namespace's SCAN match the other's keys.
    const [starred, plain] = await Promise.all([
      openStore(`${server.url}?prefix=${encodeURIComponent('ns*[a]/')}`, noEnv),
      openStore(`${server.url}?prefix=${encodeURIComponent('nsX[a]/')}`, noEnv),
    ]);
    try {
      await starred.put('certs/a', encode('starred'));
      await plain.put('certs/a', encode('plain'));
      await plain.put('certs/b', encode('plain only'));
      expect(decode((await starred.get('certs/a'))!.value)).toBe('starred');
      expect(decode((await plain.get('certs/a'))!.value)).toBe('plain');
      expect(await starred.get('certs/b')).toBeNull();
      expect(await collect(starred.list('certs/'))).toEqual(['certs/a']);
      expect(await collect(plain.list('certs/'))).toEqual(['certs/a', 'certs/b']);
      const lease = await starred.lock('cert/a', { ttlMs: 10_000 });
      expect(lease).not.toBeNull();
      expect(await plain.lock('cert/a', { ttlMs: 10_000 })).not.toBeNull();
      expect(await starred.delete('certs/b')).toBe(false);
      expect(await plain.get('certs/b')).not.toBeNull();
    } finally {
      await Promise.all([starred.close(), plain.close()]);
    }
    const keys = (await allRedisKeys(server.url)).filter((key) => key.startsWith('ns'));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith('ns*[a]/') || key.startsWith('nsX[a]/'), key).toBe(true);
  });

  it('the default prefix is acmectl/', async () => {
    const store = await openStore(server.url, noEnv);
    try {
      await store.put('default-prefix/probe', encode('v'));
    } finally {
      await store.close();
    }
    expect(await allRedisKeys(server.url)).toContain('acmectl/kv/default-prefix/probe');
  });

  it('lays out entries, counters and locks under the prefix, with Redis expiries so the server removes them itself', async () => {
    const store = await openStore(`${server.url}?prefix=layout/`, noEnv);
    const admin = new Redis(server.url, { lazyConnect: true });
    try {
      await admin.connect();
      const token = await store.put('challenges/token-1', encode('key authorization'), { ttlMs: 60_000 });
      await store.put('certs/example.com', encode('certificate'));
      const lease = await store.lock('cert/example.com', { ttlMs: 30_000 });
      expect(await admin.hget('layout/kv/challenges/token-1', 'rev')).toBe(token.ok ? token.rev : '');
      const tokenTtl = await admin.pttl('layout/kv/challenges/token-1');
      expect(tokenTtl).toBeGreaterThan(0);
      expect(tokenTtl).toBeLessThanOrEqual(60_000);
      expect(await admin.pttl('layout/kv/certs/example.com')).toBe(-1); // no expiry
      expect(await admin.get('layout/lock/cert/example.com')).toMatch(new RegExp(`:${lease!.fence}$`));
      expect(await admin.pttl('layout/lock/cert/example.com')).toBeGreaterThan(0);
      await lease!.release();
      expect(await admin.exists('layout/lock/cert/example.com')).toBe(0);
      expect(await admin.get('layout/fence/cert/example.com')).toBe(String(lease!.fence)); // kept after release
      expect(await admin.get('layout/revision')).toMatch(/^\d+$/);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });

  it('the database number in the path selects the database; one the server lacks is an OperationError', async () => {
    const [db0, db1] = await Promise.all([
      openStore(`${server.url.replace(/\/0$/, '/0')}?prefix=dbtest/`, noEnv),
      openStore(`${server.url.replace(/\/0$/, '/1')}?prefix=dbtest/`, noEnv),
    ]);
    try {
      await db1.put('k', encode('in db 1'));
      expect(await db0.get('k')).toBeNull();
      expect(decode((await db1.get('k'))!.value)).toBe('in db 1');
    } finally {
      await Promise.all([db0.close(), db1.close()]);
    }
    const error = await expectOperationError(() => openStore(server.url.replace(/\/0$/, '/99'), noEnv));
    expect(error.message).toMatch(/DB index is out of range/);
  });
});

describe('Redis store: TLS (rediss://)', () => {
  let tlsServer: RedisServerHandle;
  beforeAll(async () => {
    tlsServer = await startRedis({ tls: true });
  });
  afterAll(async () => {
    await tlsServer?.dispose();
  });

  async function expectWorks(url: string, context: StoreUrlContext): Promise<void> {
    const store = await openStore(url, context);
    try {
      expect((await store.put('tls/probe', encode('over TLS'))).ok).toBe(true);
      expect(decode((await store.get('tls/probe'))!.value)).toBe('over TLS');
    } finally {
      await store.close();
    }
  }

  it('verifies the server against --ca-bundle', async () => {
    await expectWorks(tlsServer.tls!.url, { env: {}, caBundlePem: tlsServer.tls!.caPem });
  });

  it('refuses a server certificate it cannot verify, with a hint', async () => {
    const error = await expectOperationError(() => openStore(tlsServer.tls!.url, noEnv));
    expect(error.message).toMatch(/certificate/i);
    expect(error.hint).toMatch(/--ca-bundle/);
  });

  it('checks the certificate against ?servername= instead of the host', async () => {
    const trusted = { env: {}, caBundlePem: tlsServer.tls!.caPem };
    await expectWorks(`${tlsServer.tls!.url}?servername=localhost`, trusted);
    const error = await expectOperationError(() => openStore(`${tlsServer.tls!.url}?servername=redis.example`, trusted));
    expect(error.message).toMatch(/redis\.example/);
  });

  it('with ?tls_verify=false connects without verifying', async () => {
    await expectWorks(`${tlsServer.tls!.url}?tls_verify=false`, noEnv);
  });
});

describe('Redis store: an unreachable or stopped server', () => {
  let doomed: RedisServerHandle;
  beforeAll(async () => {
    doomed = await startRedis();
  });
  afterAll(async () => {
    await doomed?.dispose();
  });

  it('stopped mid-run: operations fail at once with an OperationError; after a restart a reopened store works, with its data and growing fences', async () => {
    const url = `${doomed.url}?timeout=1000`;
    const store = await openStore(url, noEnv);
    const written = await store.put('certs/example.com', encode('before the outage'));
    if (!written.ok) throw new Error('setup write failed');
    const lease = (await store.lock('cert/example.com', { ttlMs: 60_000 }))!;
    const released = (await store.lock('cert/fence-check', { ttlMs: 60_000 }))!;
    await released.release();
    await doomed.stop();

    const readError = await expectOperationError(() => store.get('certs/example.com'));
    expect(readError.message).toContain(`redis://127.0.0.1:${doomed.port}/0?timeout=1000`);
    expect(readError.message).toMatch(/could not read certs\/example\.com: not connected/);
    expect(readError.hint).toMatch(/running and reachable/);
    await expectOperationError(() => store.put('certs/other', encode('x')));
    await expectOperationError(() => store.lock('cert/other', { ttlMs: 10_000 }));
    expect(await lease.refresh()).toBe(false);
    expect(lease.signal.aborted).toBe(true);
    await store.close(); // must not hang on a dead server

    const openError = await expectOperationError(() => openStore(url, noEnv));
    expect(openError.message).toMatch(/could not connect: .*ECONNREFUSED/);

    await doomed.restart();
    const reopened = await openStore(url, noEnv);
    try {
      const entry = await reopened.get('certs/example.com');
      expect(decode(entry!.value)).toBe('before the outage');
      const next = await reopened.put('certs/example.com', encode('after'), { ifRev: written.rev });
      expect(next.ok && next.rev).not.toBe(written.rev);
      // The cut-off holder's lease lives on the server until its ttl runs out: nobody else may take it yet.
      expect(await reopened.lock('cert/example.com', { ttlMs: 10_000 })).toBeNull();
      const relock = await reopened.lock('cert/fence-check', { ttlMs: 10_000 });
      expect(relock!.fence > released.fence, 'fences keep growing across the restart').toBe(true);
    } finally {
      await reopened.close();
    }
  });

  it('a store kept open across a restart reconnects by itself', async () => {
    const store = await openStore(doomed.url, noEnv);
    try {
      await store.put('k', encode('v1'));
      await doomed.kill();
      await expectOperationError(() => store.get('k'));
      await doomed.restart();
      let entry = null;
      for (let attempt = 0; attempt < 50 && entry === null; attempt++) {
        entry = await store.get('k').catch(() => null);
        if (entry === null) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(entry, 'the store answered again after the restart').not.toBeNull();
    } finally {
      await store.close();
    }
  });

  it('a server that accepts connections but never answers: OperationError, no hang', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const error = await expectOperationError(() => openStore(`redis://127.0.0.1:${port}/0?timeout=300`, noEnv));
      expect(error.message).toMatch(/could not connect/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
