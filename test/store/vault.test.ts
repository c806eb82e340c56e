/**
 * The vault store against the in-repo Vault STAND-IN (test/support/vault-standin.ts; no Vault server can be
 * installed here): the shared contract suite, two OS processes racing included, then authentication,
 * namespaces, TLS, how data is laid out in KV v2, and failures. test/store/vault-real.test.ts runs the same
 * contract suite against a real Vault, with `npm run test:real-stores` (not part of `npm test`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationError } from '../../src/domain/errors.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { VAULT_MAX_VALUE_BYTES } from '../../src/store/vault/store.js';
import { tempDir } from '../support/temp-dir.js';
import { startVaultStandin, type VaultStandin } from '../support/vault-standin.js';
import { describeStoreContract } from './contract.js';

const TOKEN = 'hvs.s3cret-root-token';
const SECRET_ID = 's3cret-approle-secret-id';
const JWT = 'eyJhbGciOi.s3cret-service-account-jwt';
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const scratch = tempDir('vault-test');
const standin = await startVaultStandin({ token: TOKEN, mounts: ['secret', 'kv'] });
afterAll(async () => {
  await standin.stop();
});

const contractUrl = `${standin.url}/secret/acmectl-contract?token=${TOKEN}`;
describeStoreContract('vault (stand-in)', {
  open: () => openStore(contractUrl),
  url: () => contractUrl,
  maxValueBytes: VAULT_MAX_VALUE_BYTES,
});

/** A request straight to a stand-in, as an operator's `vault` CLI would send it. */
async function vaultApi(server: VaultStandin, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/v1/${path}`, {
    method,
    headers: { 'x-vault-token': TOKEN, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const found: string[] = [];
  for await (const key of keys) found.push(key);
  return found;
}

async function failureOf(promise: Promise<unknown>): Promise<OperationError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the operation to fail');
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(OperationError);
  expect((error as OperationError).exitCode).toBe(1);
  return error as OperationError;
}

/** Every way an error could end up in front of someone: message, hint, stack, causes, inspect, JSON. */
function expectNoSecrets(error: unknown, secrets: string[] = [TOKEN, SECRET_ID, JWT]): void {
  const views = [inspect(error, { depth: 10 }), JSON.stringify(error), String(error)];
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    views.push(current.message, current.stack ?? '', (current as { hint?: string }).hint ?? '');
  }
  for (const secret of secrets) {
    for (const view of views) expect(view, `a secret appears in: ${view}`).not.toContain(secret);
  }
}

describe('vault store: data layout in KV v2', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(`${standin.url}/kv/team/acme?token=${TOKEN}`);
  });
  afterAll(() => store.close());

  it('keeps each key as a secret under MOUNT/PATH/entries/, the value base64-encoded, and says what it is', async () => {
    expect(store.kind).toBe('vault');
    expect(store.shared).toBe(true);
    const written = await store.put('certs/example.com', new Uint8Array([0, 1, 2, 255]));
    expect(written).toEqual({ ok: true, rev: '1' });
    const raw = await vaultApi(standin, 'GET', 'kv/data/team/acme/entries/certs/example.com');
    expect(raw.status).toBe(200);
    expect(raw.body.data.data).toEqual({ value: Buffer.from([0, 1, 2, 255]).toString('base64') });
    expect(raw.body.data.metadata.version).toBe(1);
  });

  it('stores the expiry of a TTL entry with it', async () => {
    const before = Date.now();
    await store.put('challenges/tok-1', encode('key-authorization'), { ttlMs: 3_600_000 });
    const raw = await vaultApi(standin, 'GET', 'kv/data/team/acme/entries/challenges/tok-1');
    expect(raw.body.data.data.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
  });

  it('a delete writes a tombstone version and keeps the metadata, so the next write continues the versions', async () => {
    await store.put('accounts/a', encode('one'));
    expect(await store.delete('accounts/a')).toBe(true);
    const raw = await vaultApi(standin, 'GET', 'kv/data/team/acme/entries/accounts/a');
    expect(raw.body.data).toMatchObject({ data: { deleted: true }, metadata: { version: 2 } });
    expect(await collect(store.list('accounts/'))).toEqual([]);
    const recreated = await store.put('accounts/a', encode('two'), { ifAbsent: true });
    expect(recreated).toEqual({ ok: true, rev: '3' });
    expect(standin.requests.some((request) => request.method === 'DELETE')).toBe(false);
  });

  it('an expired entry is overwritten with a tombstone when it is next read', async () => {
    await store.put('challenges/tok-2', encode('short'), { ttlMs: 100 });
    await sleep(250);
    expect(await store.get('challenges/tok-2')).toBeNull();
    const raw = await vaultApi(standin, 'GET', 'kv/data/team/acme/entries/challenges/tok-2');
    expect(raw.body.data).toMatchObject({ data: { deleted: true }, metadata: { version: 2 } });
  });

  it('a compare-and-set on an expired entry fails, although Vault’s cas alone would still match its version', async () => {
    const written = await store.put('challenges/tok-3', encode('short'), { ttlMs: 100 });
    if (!written.ok) throw new Error('setup write failed');
    await sleep(250);
    expect(await store.put('challenges/tok-3', encode('late'), { ifRev: written.rev })).toEqual({ ok: false });
    expect(await store.delete('challenges/tok-3', { ifRev: written.rev })).toBe(false);
    expect((await vaultApi(standin, 'GET', 'kv/data/team/acme/entries/challenges/tok-3')).body.data.data).toMatchObject({ value: expect.any(String) });
  });

  it('a key an operator deleted with `vault kv delete` (latest version soft-deleted) is absent, and can be created again', async () => {
    const old = await store.put('certs/deleted-by-operator', encode('old'));
    if (!old.ok) throw new Error('setup write failed');
    expect((await vaultApi(standin, 'DELETE', 'kv/data/team/acme/entries/certs/deleted-by-operator')).status).toBe(204);
    expect(await store.get('certs/deleted-by-operator')).toBeNull();
    expect(await collect(store.list('certs/deleted'))).toEqual([]);
    expect(await store.delete('certs/deleted-by-operator')).toBe(false);
    expect(await store.put('certs/deleted-by-operator', encode('stale'), { ifRev: old.rev })).toEqual({ ok: false });
    expect(await store.delete('certs/deleted-by-operator', { ifRev: old.rev })).toBe(false);
    const created = await store.put('certs/deleted-by-operator', encode('new'), { ifAbsent: true });
    expect(created.ok && created.rev).not.toBe(old.rev);
    expect(decode((await store.get('certs/deleted-by-operator'))!.value)).toBe('new');
  });

  it('a secret acmectl did not write is reported, not misread', async () => {
    await vaultApi(standin, 'POST', 'kv/data/team/acme/entries/certs/foreign', { data: { password: 'hunter2' } });
    const error = await failureOf(store.get('certs/foreign'));
    expect(error.message).toMatch(/holds data acmectl did not write/);
    expect(await store.put('certs/foreign', encode('mine'), { ifAbsent: true })).toEqual({ ok: false });
  });

  it('keeps locks apart from entries: list never shows them', async () => {
    const lease = await store.lock('certs/locked', { ttlMs: 10_000 });
    expect(lease).not.toBeNull();
    expect(await collect(store.list('certs/locked'))).toEqual([]);
    const raw = await vaultApi(standin, 'GET', 'kv/data/team/acme/locks/certs/locked');
    expect(raw.body.data.data).toMatchObject({ fence: String(lease!.fence) });
    await lease!.release();
    expect((await vaultApi(standin, 'GET', 'kv/data/team/acme/locks/certs/locked')).body.data.data).toMatchObject({ released: true });
  });
});

describe('vault store: authentication', () => {
  it('takes the token from ACMECTL_STORE_TOKEN and sends it as X-Vault-Token', async () => {
    const store = await openStore(`${standin.url}/secret/env-token`, { env: { ACMECTL_STORE_TOKEN: TOKEN } });
    try {
      const before = standin.requests.length;
      expect(await store.get('missing')).toBeNull();
      expect(standin.requests.slice(before).map((request) => request.token)).toEqual([TOKEN]);
    } finally {
      await store.close();
    }
  });

  it('a wrong token: OperationError "permission denied by Vault" naming the redacted URL, without the token', async () => {
    const wrong = 'hvs.s3cret-wrong-token';
    const store = await openStore(`${standin.url}/secret/acmectl?token=${wrong}`);
    try {
      const error = await failureOf(store.get('certs/x'));
      expect(error.message).toMatch(/permission denied by Vault/);
      expect(error.message).toContain(`${standin.url}/secret/acmectl?token=***`);
      expect(error.hint).toMatch(/policy/);
      expectNoSecrets(error, [wrong]);
    } finally {
      await store.close();
    }
  });

  describe('AppRole', () => {
    let approle: VaultStandin;
    beforeAll(async () => {
      approle = await startVaultStandin({ approle: { roleId: 'acmectl-role', secretId: SECRET_ID, mount: 'approle-ci' } });
    });
    afterAll(() => approle.stop());
    const urlWith = (secretId: string): string =>
      `${approle.url}/secret/acmectl?auth=approle&auth_mount=approle-ci&role_id=acmectl-role&secret_id=${secretId}`;

    it('logs in at auth/<auth_mount>/login, uses the client token, and revokes it on close', async () => {
      const store = await openStore(urlWith(SECRET_ID));
      const login = approle.requests.at(-1)!;
      expect(login).toMatchObject({ method: 'POST', url: '/v1/auth/approle-ci/login', token: undefined });
      await store.put('k', encode('v'));
      const used = approle.requests.at(-1)!.token;
      expect(used).toMatch(/^hvs\.standin-/);
      expect(decode((await store.get('k'))!.value)).toBe('v');
      await store.close();
      expect(approle.requests.at(-1)).toMatchObject({ method: 'POST', url: '/v1/auth/token/revoke-self', token: used });
    });

    it('logs in again when Vault stops accepting the token (an expired login)', async () => {
      const store = await openStore(urlWith(SECRET_ID));
      try {
        await store.put('k', encode('before'));
        approle.revokeIssuedTokens();
        const before = approle.requests.length;
        expect(decode((await store.get('k'))!.value)).toBe('before');
        expect(approle.requests.slice(before).map((request) => `${request.method} ${request.url}`)).toEqual([
          'GET /v1/secret/data/acmectl/entries/k',
          'POST /v1/auth/approle-ci/login',
          'GET /v1/secret/data/acmectl/entries/k',
        ]);
      } finally {
        await store.close();
      }
    });

    it('a wrong secret ID: OperationError at open, saying the login was refused, without the secret ID', async () => {
      const wrong = 's3cret-wrong-secret-id';
      const error = await failureOf(openStore(urlWith(wrong)));
      expect(error.message).toMatch(/log in with approle at auth\/approle-ci: Vault refused the login: invalid role or secret ID/);
      expect(error.message).toContain('secret_id=***');
      expect(error.hint).toMatch(/secret ID/);
      expectNoSecrets(error, [wrong, SECRET_ID]);
    });
  });

  describe('Kubernetes', () => {
    let kubernetes: VaultStandin;
    const jwtFile = join(scratch, 'service-account-token');
    beforeAll(async () => {
      kubernetes = await startVaultStandin({ kubernetes: { role: 'acmectl', jwt: JWT } });
      writeFileSync(jwtFile, `${JWT}\n`);
    });
    afterAll(() => kubernetes.stop());

    it('logs in with the role and the JWT read from jwt_file', async () => {
      const store = await openStore(`${kubernetes.url}/secret/acmectl?auth=kubernetes&role=acmectl&jwt_file=${jwtFile}`);
      try {
        expect(kubernetes.requests.at(-1)).toMatchObject({ method: 'POST', url: '/v1/auth/kubernetes/login' });
        expect((await store.put('k', encode('v'))).ok).toBe(true);
      } finally {
        await store.close();
      }
    });

    it('a JWT Vault rejects: OperationError without the JWT', async () => {
      const wrongJwtFile = join(scratch, 'wrong-token');
      const wrongJwt = 'eyJhbGciOi.s3cret-wrong-jwt';
      writeFileSync(wrongJwtFile, wrongJwt);
      const error = await failureOf(openStore(`${kubernetes.url}/secret/acmectl?auth=kubernetes&role=acmectl&jwt_file=${wrongJwtFile}`));
      expect(error.message).toMatch(/Vault refused the login: permission denied/);
      expect(error.hint).toMatch(/role/);
      expectNoSecrets(error, [wrongJwt, JWT]);
    });

    it('a missing JWT file: OperationError naming the file', async () => {
      const missing = join(scratch, 'no-such-token');
      const error = await failureOf(openStore(`${kubernetes.url}/secret/acmectl?auth=kubernetes&role=acmectl&jwt_file=${missing}`));
      expect(error.message).toContain(missing);
      expect(error.message).toMatch(/ENOENT/);
      expect(error.hint).toMatch(/jwt_file/);
    });
  });

  describe('namespaces', () => {
    let namespaced: VaultStandin;
    beforeAll(async () => {
      namespaced = await startVaultStandin({ namespace: 'admin/team-a', approle: { roleId: 'r', secretId: SECRET_ID } });
    });
    afterAll(() => namespaced.stop());

    it('sends X-Vault-Namespace with every request, the login included', async () => {
      const store = await openStore(`${namespaced.url}/secret/acmectl?namespace=admin/team-a&auth=approle&role_id=r&secret_id=${SECRET_ID}`);
      await store.put('k', encode('v'));
      expect((await store.lock('l', { ttlMs: 10_000 }))).not.toBeNull();
      expect(await collect(store.list(''))).toEqual(['k']);
      await store.close();
      expect(namespaced.requests.length).toBeGreaterThan(5);
      expect(namespaced.requests.filter((request) => request.namespace !== 'admin/team-a')).toEqual([]);
    });

    it('without the namespace Vault refuses: OperationError', async () => {
      const error = await failureOf(openStore(`${namespaced.url}/secret/acmectl?auth=approle&role_id=r&secret_id=${SECRET_ID}`));
      expect(error.message).toMatch(/refused the login: permission denied/);
      expectNoSecrets(error);
    });
  });
});

describe('vault store: TLS', () => {
  let tlsStandin: VaultStandin;
  let caPem: string;
  beforeAll(async () => {
    // A self-signed certificate for the name vault.test only (not 127.0.0.1), so servername matters.
    const keyFile = join(scratch, 'tls-key.pem');
    const certFile = join(scratch, 'tls-cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=vault.test', '-addext', 'subjectAltName=DNS:vault.test', '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'ignore' });
    caPem = readFileSync(certFile, 'utf8');
    tlsStandin = await startVaultStandin({ token: TOKEN, tls: { key: readFileSync(keyFile, 'utf8'), cert: caPem } });
  });
  afterAll(() => tlsStandin.stop());

  const roundTrip = async (url: string, caBundlePem?: string): Promise<void> => {
    const store = await openStore(url, caBundlePem !== undefined ? { caBundlePem } : {});
    try {
      expect((await store.put('k', encode('over tls'))).ok).toBe(true);
      expect(decode((await store.get('k'))!.value)).toBe('over tls');
    } finally {
      await store.close();
    }
  };

  it('trusts the --ca-bundle and checks the certificate against servername', async () => {
    await roundTrip(`${tlsStandin.url}/secret/acmectl?token=${TOKEN}&servername=vault.test`, caPem);
  });

  it('an untrusted certificate: OperationError pointing at --ca-bundle', async () => {
    const store = await openStore(`${tlsStandin.url}/secret/acmectl?token=${TOKEN}&servername=vault.test`);
    try {
      const error = await failureOf(store.get('k'));
      expect(error.message).toMatch(/certificate/i);
      expect(error.hint).toMatch(/--ca-bundle/);
      expectNoSecrets(error);
    } finally {
      await store.close();
    }
  });

  it('a certificate for another name: OperationError (servername not given)', async () => {
    const store = await openStore(`${tlsStandin.url}/secret/acmectl?token=${TOKEN}`, { caBundlePem: caPem });
    try {
      const error = await failureOf(store.get('k'));
      expect(error.message).toMatch(/vault\.test|altnames|Hostname/i);
      expect(error.hint).toMatch(/servername/);
    } finally {
      await store.close();
    }
  });

  it('tls_verify=false accepts any certificate', async () => {
    await roundTrip(`${tlsStandin.url}/secret/acmectl?token=${TOKEN}&tls_verify=false`);
  });
});

describe('vault store: failures', () => {
  it('a server that is gone: prompt OperationError naming the redacted URL, with the cause', async () => {
    const gone = await startVaultStandin({ token: TOKEN });
    const store = await openStore(`${gone.url}/secret/acmectl?token=${TOKEN}`);
    try {
      await store.put('k', encode('v'));
      await gone.stop();
      const error = await failureOf(store.get('k'));
      expect(error.message).toContain(`${gone.url}/secret/acmectl?token=***`);
      expect(error.message).toMatch(/could not read k: .*ECONNREFUSED/);
      expect(error.hint).toMatch(/reachable/);
      expect(error.cause).toBeDefined();
      expectNoSecrets(error);
    } finally {
      await store.close();
    }
  });

  it('a server that never answers: OperationError after ?timeout=', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const store = await openStore(`vault://127.0.0.1:${port}/secret/acmectl?token=${TOKEN}&timeout=300`);
    try {
      const error = await failureOf(store.get('k'));
      expect(error.message).toMatch(/did not answer within 300 ms/);
      expect(error.hint).toMatch(/timeout/);
      expectNoSecrets(error);
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a mount that does not exist: OperationError saying so', async () => {
    const store = await openStore(`${standin.url}/no-such-mount/acmectl?token=${TOKEN}`);
    try {
      const error = await failureOf(store.get('k'));
      expect(error.message).toMatch(/HTTP 404: no handler for route/);
      expect(error.hint).toMatch(/KV version 2 secrets engine is mounted at no-such-mount\//);
    } finally {
      await store.close();
    }
  });

  it('rejects use after close', async () => {
    const store = await openStore(contractUrl);
    await store.close();
    await expect(store.get('k')).rejects.toThrow(/closed/);
    await store.close(); // idempotent
  });
});
