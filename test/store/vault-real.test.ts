/**
 * The store contract suite against a REAL Vault (the same suite vault.test.ts runs against the stand-in),
 * plus a check that the real Vault answers the way test/support/vault-standin.ts claims it does. Not part of
 * `npm test` (no Vault can be installed where the project runs): `npm run test:real-stores` runs it, and it
 * fails, never skips, when ACMECTL_TEST_VAULT_URL does not name a server. With a dev server for instance:
 *
 *   vault server -dev -dev-root-token-id=dev-root &          # KV v2 is mounted at secret/ in dev mode
 *   ACMECTL_TEST_VAULT_URL='vault://127.0.0.1:8200/secret/acmectl-test' ACMECTL_STORE_TOKEN=dev-root \
 *     npm run test:real-stores -- vault
 *
 * (The script builds first: the race workers run the built code.) Any store URL works for the contract
 * (vault+https://, ?namespace=, ?auth=approle with ACMECTL_STORE_SECRET_ID, ...); the stand-in check talks to
 * Vault's API itself and needs a plain-HTTP vault:// URL with a token, and fails saying so otherwise. Secrets
 * are best passed through the environment, which the race worker processes inherit. Every test writes under
 * its own random names below the URL's path; nothing is cleaned up (see vault.ts: acmectl never deletes
 * metadata), so point it at a scratch path.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { VAULT_MAX_VALUE_BYTES } from '../../src/store/vault/store.js';
import { parseVaultUrl } from '../../src/store/vault/url.js';
import { describeStoreContract } from './contract.js';

const url = process.env['ACMECTL_TEST_VAULT_URL'] ?? '';
if (url === '') {
  throw new Error('ACMECTL_TEST_VAULT_URL is not set: this suite tests a real Vault and needs its store URL (see the top of this file)');
}

describe('vault (real server at ACMECTL_TEST_VAULT_URL)', () => {
  describeStoreContract('vault (real server)', {
    open: () => openStore(url),
    url: () => url,
    maxValueBytes: VAULT_MAX_VALUE_BYTES,
  });

  it('answers as the stand-in does: cas mismatch, soft delete (404 with metadata), list of nothing', async () => {
    const config = parseVaultUrl(url, {});
    // Raw API calls need the token itself and plain HTTP (fetch cannot take a --ca-bundle).
    expect(config.protocol === 'http:' && config.auth.method === 'token', 'this check needs a plain-HTTP vault:// URL and a token').toBe(true);
    const { host, port, mount, pathPrefix, namespace, auth } = config;
    const token = auth.method === 'token' ? auth.token.reveal() : '';
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port}/v1/${mount}/${path}`, {
        method,
        headers: { 'x-vault-token': token, ...(namespace !== undefined ? { 'x-vault-namespace': namespace } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    };
    const key = `${pathPrefix}fidelity-${randomUUID()}`;
    expect(await call('POST', `data/${key}`, { options: { cas: 0 }, data: { value: 'x' } })).toMatchObject({ status: 200, body: { data: { version: 1 } } });
    const mismatch = await call('POST', `data/${key}`, { options: { cas: 0 }, data: { value: 'y' } });
    expect(mismatch.status).toBe(400);
    expect(JSON.stringify(mismatch.body.errors)).toMatch(/check-and-set parameter did not match the current version/);
    expect((await call('DELETE', `data/${key}`)).status).toBe(204);
    const deleted = await call('GET', `data/${key}`);
    expect(deleted.status).toBe(404);
    expect(deleted.body.data).toMatchObject({ data: null, metadata: { version: 1 } });
    expect(deleted.body.data.metadata.deletion_time).not.toBe('');
    expect((await call('POST', `data/${key}`, { options: { cas: 1 }, data: { value: 'z' } })).status).toBe(200);
    const listed = await call('GET', `metadata/${pathPrefix}?list=true`);
    expect(listed.status).toBe(200);
    expect(listed.body.data.keys).toContain(key.slice(pathPrefix.length));
    expect(await call('GET', `metadata/${pathPrefix}nothing-${randomUUID()}/?list=true`)).toMatchObject({ status: 404, body: { errors: [] } });
  });
});
