/**
 * The consul store against the in-repo Consul STAND-IN (test/support/consul-standin.ts): no Consul server can be
 * installed here. The same contract suite runs against a real Consul in test/store/consul-real.test.ts, with
 * `npm run test:real-stores` (not part of `npm test`). The cross-process races use the BUILT code: run `npx tsc -p tsconfig.build.json`
 * after changing src/.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationError } from '../../src/domain/errors.js';
import { CONSUL_MAX_VALUE_BYTES } from '../../src/store/consul/store.js';
import { leaseTestControls } from '../../src/store/lease.js';
import { openStore, parseStoreUrl } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { startConsulStandin, type ConsulStandin } from '../support/consul-standin.js';
import { tempDir } from '../support/temp-dir.js';
import { describeStoreContract } from './contract.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const scratch = tempDir('consul-test');
let standin: ConsulStandin;
beforeAll(async () => {
  standin = await startConsulStandin();
});
afterAll(async () => {
  await standin.stop();
});

describeStoreContract('consul (stand-in)', {
  open: () => openStore(standin.url),
  url: () => standin.url,
  maxValueBytes: CONSUL_MAX_VALUE_BYTES,
});

async function failureOf(promise: Promise<unknown>): Promise<OperationError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the operation to fail');
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(OperationError);
  return error as OperationError;
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const found: string[] = [];
  for await (const key of keys) found.push(key);
  return found;
}

/** What the stand-in holds at a raw Consul key (as `consul kv get -detailed` would show it), or null. */
async function rawEntry(server: ConsulStandin, key: string): Promise<{ Value: string | null; Session?: string; ModifyIndex: number } | null> {
  const answer = await fetch(`http://127.0.0.1:${server.port}/v1/kv/${key}`);
  if (answer.status === 404) return null;
  return ((await answer.json()) as Array<{ Value: string | null; Session?: string; ModifyIndex: number }>)[0]!;
}

const rawText = (entry: { Value: string | null } | null): string => Buffer.from(entry?.Value ?? '', 'base64').toString('utf8');

describe('consul store on the stand-in', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(standin.url);
  });
  afterAll(async () => {
    await store.close();
  });

  it('keeps entries under <kv path>data/ with acmectl\'s header line, and lock records apart from them', async () => {
    const key = `layout-${Date.now()}/certs/example.com`;
    const written = await store.put(key, encode('{"pem":"..."}'), { ttlMs: 60_000 });
    const raw = await rawEntry(standin, `acmectl-test/data/${key}`);
    expect(rawText(raw)).toMatch(/^acmectl:1 [0-9a-f]{16} \d{15}\n\{"pem":"\.\.\."\}$/);
    expect(written.ok && written.rev).toBe(String(raw!.ModifyIndex));

    const lease = (await store.lock(`layout-lock-${Date.now()}`, { ttlMs: 10_000 }))!;
    const lockRecord = JSON.parse(rawText(await rawEntry(standin, `acmectl-test/locks/${lease.name}`))) as Record<string, unknown>;
    expect(lockRecord).toMatchObject({ fence: String(lease.fence), holder: expect.stringContaining(`pid ${process.pid}`) });
    expect(rawText(await rawEntry(standin, `acmectl-test/fences/${lease.name}`))).toBe(String(lease.fence));
    const everything = await collect(store.list(''));
    expect(everything).toContain(key);
    expect(everything.filter((listed) => listed.includes('layout-lock'))).toEqual([]);
    await lease.release();
  });

  it('deletes expired entries it comes across (Consul keeps them: KV has no TTL)', async () => {
    const prefix = `sweep-${Date.now()}/`;
    await store.put(`${prefix}short`, encode('v'), { ttlMs: 100 });
    await sleep(250);
    expect(await rawEntry(standin, `acmectl-test/data/${prefix}short`)).not.toBeNull();
    expect(await collect(store.list(prefix))).toEqual([]);
    expect(await rawEntry(standin, `acmectl-test/data/${prefix}short`)).toBeNull();
  });

  it('an expired entry Consul still holds matches neither ifRev nor delete ifRev', async () => {
    const key = `expired-cas-${Date.now()}`;
    const written = await store.put(key, encode('v'), { ttlMs: 100 });
    if (!written.ok) throw new Error('setup write failed');
    await sleep(250);
    // No get() first: that would already have deleted it.
    expect(await store.put(key, encode('w'), { ifRev: written.rev })).toEqual({ ok: false });
    expect(await store.delete(key, { ifRev: written.rev })).toBe(false);
    expect(await store.get(key)).toBeNull();
  });

  it('concurrent plain writes: each put returns the revision of its own write, so only the last one matches', async () => {
    const key = `concurrent-${Date.now()}`;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.put(key, encode(`writer-${i}`))));
    const entry = (await store.get(key))!;
    const matching = results.flatMap((result, i) => (result.ok && result.rev === entry.rev ? [i] : []));
    expect(matching).toHaveLength(1);
    expect(decode(entry.value)).toBe(`writer-${matching[0]}`);
    for (const [i, result] of results.entries()) {
      if (i === matching[0] || !result.ok) continue;
      expect(await store.put(key, encode('stale'), { ifRev: result.rev }), `writer ${i}`).toEqual({ ok: false });
    }
  });

  it('a short lease gets a session of Consul\'s minimum TTL (10 s) without lock-delay, and its own expiry', async () => {
    const lease = (await store.lock(`short-${Date.now()}`, { ttlMs: 300 }))!;
    const record = JSON.parse(rawText(await rawEntry(standin, `acmectl-test/locks/${lease.name}`))) as { session: string; expiresAt: number };
    expect(record.expiresAt).toBeGreaterThan(Date.now() - 1_000);
    const info = (await (await fetch(`http://127.0.0.1:${standin.port}/v1/session/info/${record.session}`)).json()) as Array<Record<string, unknown>>;
    expect(info[0]).toMatchObject({ TTL: '10s', LockDelay: 0, Behavior: 'release' });
    await lease.release();
    expect(await (await fetch(`http://127.0.0.1:${standin.port}/v1/session/info/${record.session}`)).json()).toEqual([]);
    expect((await rawEntry(standin, `acmectl-test/locks/${lease.name}`))?.Session).toBeUndefined();
  });

  it('a holder whose session is destroyed (e.g. by an operator) has lost the lease', async () => {
    const lease = (await store.lock(`destroyed-${Date.now()}`, { ttlMs: 10_000 }))!;
    leaseTestControls(lease).stopAutoRefresh();
    const { session } = JSON.parse(rawText(await rawEntry(standin, `acmectl-test/locks/${lease.name}`))) as { session: string };
    expect((await fetch(`http://127.0.0.1:${standin.port}/v1/session/destroy/${session}`, { method: 'PUT' })).status).toBe(200);
    expect(await lease.refresh()).toBe(false);
    expect((lease.signal.reason as Error).message).toMatch(/lost/);
  });

  it('a holder past its expiry cannot refresh, even while nobody has taken the lock over', async () => {
    const lease = (await store.lock(`overdue-${Date.now()}`, { ttlMs: 150 }))!;
    leaseTestControls(lease).freeze();
    await sleep(300);
    expect(await lease.refresh()).toBe(false);
    expect((lease.signal.reason as Error).message).toMatch(/lost/);
  });

  it('refuses a lease longer than a Consul session can live (24 h)', async () => {
    await expect(store.lock(`too-long-${Date.now()}`, { ttlMs: 86_400_001 })).rejects.toThrow(RangeError);
  });
});

describe('consul store failures', () => {
  it('a stopped Consul: OperationError naming the store, with the cause', async () => {
    const server = await startConsulStandin();
    const store = await openStore(server.url);
    await server.stop();
    try {
      const error = await failureOf(store.get('certs/example.com'));
      expect(error.message).toContain(`consul store ${server.url}`);
      expect(error.message).toMatch(/connection refused|connection was reset|socket hang up/);
      expect(error.cause).toBeDefined();
      const opening = await failureOf(openStore(server.url));
      expect(opening.message).toMatch(/connection refused/);
      expect(opening.hint).toContain(`http://127.0.0.1:${server.port}`);
    } finally {
      await store.close();
    }
  });

  it('a Consul that never answers: OperationError once ?timeout= has passed', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const error = await failureOf(openStore(`consul://127.0.0.1:${port}/acmectl-test/?timeout=300`));
      expect(error.message).toMatch(/no answer within 300 ms/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('an entry that acmectl did not write: OperationError saying so', async () => {
    const store = await openStore(standin.url);
    try {
      await fetch(`http://127.0.0.1:${standin.port}/v1/kv/acmectl-test/data/foreign`, { method: 'PUT', body: 'written by hand' });
      const error = await failureOf(store.get('foreign'));
      expect(error.message).toMatch(/not written by acmectl/);
    } finally {
      await store.close();
    }
  });
});

describe('consul ACL token', () => {
  const TOKEN = '6f3c1b8e-acl-secret-4d2a-token';
  let secured: ConsulStandin;
  let base: string;
  beforeAll(async () => {
    secured = await startConsulStandin({ token: TOKEN });
    base = secured.url;
  });
  afterAll(() => secured.stop());

  /** The token must not show anywhere a person or a log could see it. */
  function expectNoToken(error: OperationError, url: string): void {
    for (const text of [error.message, error.stack ?? '', error.hint ?? '', inspect(error, { depth: 10 }), String(error.cause)]) {
      expect(text).not.toContain(TOKEN);
    }
    const { config } = parseStoreUrl(url) as { config: object };
    expect(JSON.stringify(config)).not.toContain(TOKEN);
    expect(inspect(config, { depth: 10 })).not.toContain(TOKEN);
  }

  async function roundTrip(store: Store): Promise<void> {
    const key = `token-${Date.now()}-${Math.random()}`;
    const written = await store.put(key, encode('v'));
    expect(written.ok).toBe(true);
    expect(decode((await store.get(key))!.value)).toBe('v');
    const lease = await store.lock(key, { ttlMs: 10_000 });
    expect(lease).not.toBeNull();
    await store.close();
  }

  it('with the right token in the URL: works, and the token travels only in the X-Consul-Token header', async () => {
    const before = secured.requests.length;
    await roundTrip(await openStore(`${base}?token=${TOKEN}`));
    const sent = secured.requests.slice(before);
    expect(sent.length).toBeGreaterThan(5);
    for (const request of sent) {
      expect(request.token, request.url).toBe(TOKEN);
      expect(request.url).not.toContain(TOKEN);
    }
  });

  it('with the token from ACMECTL_STORE_TOKEN', async () => {
    await roundTrip(await openStore(base, { env: { ACMECTL_STORE_TOKEN: TOKEN } }));
  });

  it('with the token from ?token_file=', async () => {
    const file = join(scratch, 'consul-token');
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    await roundTrip(await openStore(`${base}?token_file=${encodeURIComponent(file)}`, { env: {} }));
  });

  it('with a wrong token: OperationError at open saying Consul refused it, without either token', async () => {
    const url = `${base}?token=${TOKEN}-wrong`;
    const error = await failureOf(openStore(url));
    expect(error.message).toMatch(/403 \(ACL not found\)/);
    expect(error.message).toContain('token=***');
    expect(error.hint).toMatch(/token_file/);
    expectNoToken(error, url);
    expect(error.message).not.toContain(`${TOKEN}-wrong`);
  });

  it('without a token: OperationError (Permission denied) with a hint', async () => {
    const error = await failureOf(openStore(base, { env: {} }));
    expect(error.message).toMatch(/403 \(Permission denied\)/);
    expect(error.hint).toMatch(/ACMECTL_STORE_TOKEN/);
  });

  it('never shows the token when Consul cannot be reached either', async () => {
    const gone = await startConsulStandin({ token: TOKEN });
    await gone.stop();
    const url = `${gone.url}?token=${TOKEN}`;
    expectNoToken(await failureOf(openStore(url)), url);
  });
});

describe('consul+https', () => {
  let tlsStandin: ConsulStandin;
  let certificatePem: string;
  beforeAll(async () => {
    // A self-signed certificate for the name consul.test only (no IP address), so servername matters.
    const dir = mkdtempSync(join(scratch, 'tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=consul.test', '-addext', 'subjectAltName=DNS:consul.test',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    certificatePem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    tlsStandin = await startConsulStandin({ tls: { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: certificatePem } });
  });
  afterAll(() => tlsStandin.stop());

  it('works with --ca-bundle and ?servername=', async () => {
    expect(tlsStandin.url).toMatch(/^consul\+https:/);
    const store = await openStore(`${tlsStandin.url}?servername=consul.test`, { caBundlePem: certificatePem });
    try {
      expect((await store.put('tls/k', encode('v'))).ok).toBe(true);
      expect(decode((await store.get('tls/k'))!.value)).toBe('v');
    } finally {
      await store.close();
    }
  });

  it('refuses an untrusted certificate, with a hint', async () => {
    const error = await failureOf(openStore(`${tlsStandin.url}?servername=consul.test`));
    expect(error.message).toMatch(/TLS certificate is not accepted/);
    expect(error.hint).toMatch(/--ca-bundle/);
  });

  it('refuses a certificate for another name unless ?servername= names it', async () => {
    const error = await failureOf(openStore(tlsStandin.url, { caBundlePem: certificatePem }));
    expect(error.message).toMatch(/TLS certificate is not accepted/);
  });

  it('?tls_verify=false accepts any certificate', async () => {
    const store = await openStore(`${tlsStandin.url}?tls_verify=false`);
    try {
      expect((await store.put('tls/unverified', encode('v'))).ok).toBe(true);
      expect(decode((await store.get('tls/unverified'))!.value)).toBe('v');
    } finally {
      await store.close();
    }
  });
});
