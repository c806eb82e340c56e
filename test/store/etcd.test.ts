import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationError } from '../../src/domain/errors.js';
import { ETCD_MAX_VALUE_BYTES } from '../../src/store/etcd/store.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { freePort } from '../../scripts/lib/pebble.js';
import { startEtcd, type EtcdServer } from '../support/etcd-server.js';
import { tempDir } from '../support/temp-dir.js';
import { describeStoreContract } from './contract.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const found: string[] = [];
  for await (const key of keys) found.push(key);
  return found;
}

/** The failure of `promise`, which must reject. */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the promise to reject with an Error');
  return outcome;
}

/** Everything an error could show a user or a log: messages, hints and stacks along the cause chain. */
function everythingShownBy(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '', String((current as { hint?: unknown }).hint ?? ''));
      if (current instanceof AggregateError) parts.push(...current.errors.map((item) => everythingShownBy(item)));
      parts.push(JSON.stringify(current, Object.getOwnPropertyNames(current)));
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join('\n');
}

/** Reads one key straight from etcd (no acmectl code in between). */
async function rawRange(server: EtcdServer, key: string): Promise<{ lease?: string; value?: string } | undefined> {
  const response = await fetch(`${server.clientUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64(key) }) });
  const body = (await response.json()) as { kvs?: Array<{ lease?: string; value?: string }> };
  return body.kvs?.[0];
}

async function rawPut(server: EtcdServer, key: string, value: string): Promise<void> {
  const response = await fetch(`${server.clientUrl}/v3/kv/put`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(key), value: b64(value) }),
  });
  expect(response.status).toBe(200);
}

let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

describeStoreContract('etcd', {
  open: () => openStore(etcd.url),
  url: () => etcd.url,
  maxValueBytes: ETCD_MAX_VALUE_BYTES,
});

describe('etcd store layout', () => {
  it('keeps entries under <prefix>kv/ and locks under <prefix>locks/, so locks never show up in list()', async () => {
    const prefix = `layout-${Date.now()}/team-a`;
    const store = await openStore(`etcd://127.0.0.1:${etcd.clientPort}/${prefix}`);
    try {
      expect(store.kind).toBe('etcd');
      expect(store.shared).toBe(true);
      await store.put('certs/example.com', encode('cert'));
      const lease = await store.lock('certs/example.com', { ttlMs: 10_000 });
      expect(lease).not.toBeNull();
      expect(await rawRange(etcd, `${prefix}/kv/certs/example.com`)).toBeDefined();
      expect(await rawRange(etcd, `${prefix}/locks/certs/example.com`)).toBeDefined();
      expect(await collect(store.list(''))).toEqual(['certs/example.com']);
    } finally {
      await store.close();
    }
    // Another prefix is another store.
    const other = await openStore(`etcd://127.0.0.1:${etcd.clientPort}/${prefix}-other/`);
    try {
      expect(await other.get('certs/example.com')).toBeNull();
      expect(await collect(other.list(''))).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('a TTL entry hangs on an etcd lease: hidden as soon as it expires, removed by etcd later', async () => {
    const store = await openStore(etcd.url);
    try {
      const key = `challenges/ttl-${Date.now()}`;
      await store.put(key, encode('token'), { ttlMs: 150 });
      const stored = await rawRange(etcd, `acmectl-test/kv/${key}`);
      expect(stored?.lease ?? '0').not.toBe('0');
      await sleep(300);
      // etcd leases live whole seconds (2 s at least by default): the key is still there, but expired.
      expect(await rawRange(etcd, `acmectl-test/kv/${key}`), 'etcd has not reaped it yet').toBeDefined();
      expect(await store.get(key)).toBeNull();
      expect(await collect(store.list('challenges/'))).not.toContain(key);
      for (let waited = 0; waited < 10_000 && (await rawRange(etcd, `acmectl-test/kv/${key}`)) !== undefined; waited += 250) {
        await sleep(250);
      }
      expect(await rawRange(etcd, `acmectl-test/kv/${key}`), 'etcd removed it with its lease').toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('a value acmectl did not write is an OperationError, not garbage', async () => {
    await rawPut(etcd, 'acmectl-test/kv/foreign/key', 'written by someone else');
    const store = await openStore(etcd.url);
    try {
      const error = await failureOf(store.get('foreign/key'));
      expect(error).toBeInstanceOf(OperationError);
      expect(error.message).toMatch(/did not write/);
    } finally {
      await store.close();
    }
  });

  it('a lock record left by a crashed holder is taken over once it expires, with a greater fence', async () => {
    const store = await openStore(etcd.url);
    try {
      const name = `cert/crashed-${Date.now()}`;
      // As a crashed process leaves it: an expired record (its etcd lease may not have ended yet).
      await rawPut(etcd, `acmectl-test/locks/${name}`, `crashed-owner ${String(Date.now() - 1).padStart(16, '0')}`);
      const lease = await store.lock(name, { ttlMs: 10_000 });
      expect(lease).not.toBeNull();
      expect(await store.lock(name, { ttlMs: 10_000 })).toBeNull();
      await lease!.release();
      expect(await rawRange(etcd, `acmectl-test/locks/${name}`)).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('etcd store availability', () => {
  let server: EtcdServer;
  beforeAll(async () => {
    server = await startEtcd();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a stopped server: OperationError naming the store and the refused connection; works again after a restart', async () => {
    const store = await openStore(server.url);
    try {
      const written = await store.put('certs/kept', encode('survives'));
      await server.kill();
      const error = await failureOf(store.get('certs/kept'));
      expect(error).toBeInstanceOf(OperationError);
      expect((error as OperationError).exitCode).toBe(1);
      expect(error.message).toContain(`etcd://127.0.0.1:${server.clientPort}/acmectl-test/`);
      expect(error.message).toMatch(/ECONNREFUSED/);
      expect((error as OperationError).hint).toMatch(/running and reachable/);
      expect(error.cause).toBeDefined();

      const openError = await failureOf(openStore(server.url));
      expect(openError).toBeInstanceOf(OperationError);
      expect(openError.message).toMatch(/ECONNREFUSED/);

      await server.restart();
      const entry = await store.get('certs/kept');
      expect(entry && decode(entry.value)).toBe('survives');
      expect(entry!.rev).toBe(written.ok ? written.rev : '');
    } finally {
      await store.close();
      if (!server.running) await server.restart(); // for the tests after this one
    }
  });

  it('several endpoints: when the first cannot be reached the next one serves every operation', async () => {
    const closedPort = await freePort(); // nothing listens there
    const store = await openStore(`etcd://127.0.0.1:${closedPort},127.0.0.1:${server.clientPort}/acmectl-test/`);
    try {
      const key = `certs/failover-${Date.now()}`;
      const created = await store.put(key, encode('one'), { ifAbsent: true });
      expect(created.ok).toBe(true);
      const updated = await store.put(key, encode('two'), { ifRev: created.ok ? created.rev : '' });
      expect(updated.ok).toBe(true);
      expect(decode((await store.get(key))!.value)).toBe('two');
      expect(await collect(store.list('certs/failover-'))).toEqual([key]);
      const lease = await store.lock(key, { ttlMs: 10_000 });
      expect(lease).not.toBeNull();
      expect(await lease!.refresh()).toBe(true);
      await lease!.release();
      expect(await store.delete(key)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('no endpoint reachable: the message lists every endpoint tried', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const error = await failureOf(openStore(`etcd://127.0.0.1:${first},127.0.0.1:${second}/`));
    expect(error).toBeInstanceOf(OperationError);
    expect(error.message).toContain(`http://127.0.0.1:${first}`);
    expect(error.message).toContain(`http://127.0.0.1:${second}`);
  });
});

describe('etcd store authentication', () => {
  const password = 'pa$$ w0rd/with@odd:chars';
  let server: EtcdServer;
  const scratch = tempDir('etcd-auth');
  beforeAll(async () => {
    // Simple tokens expire after --auth-token-ttl seconds idle; 1 s lets a test see acmectl log in again.
    server = await startEtcd({ extraArgs: ['--auth-token-ttl', '1'] });
    await server.enableAuth(password);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const hostAndPrefix = (): string => `127.0.0.1:${server.clientPort}/acmectl-test/`;

  async function expectWorks(store: Store): Promise<void> {
    try {
      const key = `certs/auth-${Math.random()}`;
      const written = await store.put(key, encode('v'));
      expect(written.ok).toBe(true);
      expect(decode((await store.get(key))!.value)).toBe('v');
      const lease = await store.lock(key, { ttlMs: 10_000 });
      expect(lease).not.toBeNull();
      await lease!.release();
    } finally {
      await store.close();
    }
  }

  it('user and password in the URL', async () => {
    await expectWorks(await openStore(`etcd://root:${encodeURIComponent(password)}@${hostAndPrefix()}`));
  });

  it('password from ACMECTL_STORE_PASSWORD, user from ?username=', async () => {
    await expectWorks(
      await openStore(`etcd://${hostAndPrefix()}?username=root`, { env: { ACMECTL_STORE_PASSWORD: password } }),
    );
  });

  it('password from ?password_file=', async () => {
    const file = join(scratch, 'etcd-password');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    await expectWorks(await openStore(`etcd://root@${hostAndPrefix()}?password_file=${encodeURIComponent(file)}`, { env: {} }));
  });

  it('logs in again when the token expired', async () => {
    const store = await openStore(`etcd://root:${encodeURIComponent(password)}@${hostAndPrefix()}`);
    try {
      const key = `certs/relogin-${Date.now()}`;
      await store.put(key, encode('before'));
      await sleep(2_500); // past --auth-token-ttl 1
      expect(decode((await store.get(key))!.value)).toBe('before');
    } finally {
      await store.close();
    }
  });

  it('a wrong password: OperationError saying authentication failed, with the password nowhere in it', async () => {
    const wrong = 'wrong-Secret-1234';
    const error = await failureOf(openStore(`etcd://root:${wrong}@${hostAndPrefix()}`));
    expect(error).toBeInstanceOf(OperationError);
    expect(error.message).toMatch(/authentication failed/);
    expect(error.message).toContain(`etcd://root:***@127.0.0.1:${server.clientPort}/acmectl-test/`);
    expect((error as OperationError).hint).toMatch(/password/);
    const shown = everythingShownBy(error);
    expect(shown).not.toContain(wrong);
    expect(shown).not.toContain(encodeURIComponent(password));
  });

  it('the right password in a URL whose server is down never appears in the error either', async () => {
    const closedPort = await freePort();
    const down = await failureOf(openStore(`etcd://root:${encodeURIComponent(password)}@127.0.0.1:${closedPort}/`));
    expect(down).toBeInstanceOf(OperationError);
    expect(down.message).toMatch(/ECONNREFUSED/);
    expect(down.message).toContain('root:***@');
    const shown = everythingShownBy(down);
    expect(shown).not.toContain(password);
    expect(shown).not.toContain(encodeURIComponent(password));
  });

  it('no user for a cluster with auth: OperationError whose hint says to name one', async () => {
    const error = await failureOf(openStore(`etcd://${hostAndPrefix()}`));
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).hint).toMatch(/authentication enabled/);
  });
});

describe('etcd store over TLS (etcd+https://)', () => {
  let server: EtcdServer;
  beforeAll(async () => {
    server = await startEtcd({ tls: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('trusts the server with the --ca-bundle', async () => {
    const store = await openStore(server.url, { caBundlePem: server.caPem! });
    try {
      const written = await store.put('certs/tls', encode('over tls'));
      expect(written.ok).toBe(true);
      expect(decode((await store.get('certs/tls'))!.value)).toBe('over tls');
    } finally {
      await store.close();
    }
  });

  it('an untrusted certificate: OperationError with a hint about --ca-bundle', async () => {
    const error = await failureOf(openStore(server.url));
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).hint).toMatch(/--ca-bundle/);
  });

  it('?tls_verify=false connects without the CA', async () => {
    const store = await openStore(`${server.url}?tls_verify=false`);
    try {
      expect((await store.put('certs/unverified', encode('without the CA'))).ok).toBe(true);
      expect(decode((await store.get('certs/unverified'))!.value)).toBe('without the CA');
    } finally {
      await store.close();
    }
  });

  it('?servername= is the name the certificate is checked against', async () => {
    const byIp = `etcd+https://127.0.0.1:${server.clientPort}/acmectl-test/`;
    const wrongName = await failureOf(openStore(`${byIp}?servername=not-localhost.example`, { caBundlePem: server.caPem! }));
    expect(wrongName).toBeInstanceOf(OperationError);
    expect(wrongName.message).toMatch(/not-localhost\.example/);
    const store = await openStore(`${byIp}?servername=localhost`, { caBundlePem: server.caPem! });
    try {
      expect((await store.put('certs/by-ip', encode('checked as localhost'))).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
