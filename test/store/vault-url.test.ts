import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/domain/errors.js';
import { parseStoreUrl } from '../../src/store/open.js';
import { parseVaultUrl, SecretText, type VaultStoreConfig } from '../../src/store/vault/url.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir('vault-url-test');

/** The config without its secrets (compared separately: SecretText hides them from toEqual on purpose). */
function shapeOf(config: VaultStoreConfig): unknown {
  const { auth, ...rest } = config;
  const { token: _token, secretId: _secretId, ...visibleAuth } = auth as typeof auth & { token?: unknown; secretId?: unknown };
  return { ...rest, auth: visibleAuth };
}

const network = { timeoutMs: 5000, tlsVerify: true };

describe('parseVaultUrl', () => {
  const accepted: Array<[string, Record<string, unknown>]> = [
    [
      'vault://127.0.0.1/?token=t0k',
      { display: 'vault://127.0.0.1/?token=***', protocol: 'http:', host: '127.0.0.1', port: 8200, mount: 'secret', pathPrefix: 'acmectl/', auth: { method: 'token' }, ...network },
    ],
    [
      'vault://vault.internal:8201/kv?token=t0k',
      { display: 'vault://vault.internal:8201/kv?token=***', protocol: 'http:', host: 'vault.internal', port: 8201, mount: 'kv', pathPrefix: 'acmectl/', auth: { method: 'token' }, ...network },
    ],
    [
      'vault+https://vault.internal/secret/acme/prod/?token=t0k&timeout=2000&tls_verify=false&servername=vault.example.com',
      {
        display: 'vault+https://vault.internal/secret/acme/prod/?token=***&timeout=2000&tls_verify=false&servername=vault.example.com',
        protocol: 'https:', host: 'vault.internal', port: 8200, mount: 'secret', pathPrefix: 'acme/prod/', auth: { method: 'token' },
        timeoutMs: 2000, tlsVerify: false, servername: 'vault.example.com',
      },
    ],
    [
      'vault://[::1]:8200/team%2Fkv/ac%20me?token=t0k&namespace=admin/team-a',
      { display: 'vault://[::1]:8200/team%2Fkv/ac%20me?token=***&namespace=admin%2Fteam-a', protocol: 'http:', host: '::1', port: 8200, mount: 'team/kv', pathPrefix: 'ac me/', namespace: 'admin/team-a', auth: { method: 'token' }, ...network },
    ],
    [
      'vault://vault:8200/secret/acmectl?auth=approle&role_id=r-1&secret_id=s3cret-id',
      { display: 'vault://vault:8200/secret/acmectl?auth=approle&role_id=r-1&secret_id=***', protocol: 'http:', host: 'vault', port: 8200, mount: 'secret', pathPrefix: 'acmectl/', auth: { method: 'approle', mount: 'approle', roleId: 'r-1' }, ...network },
    ],
    [
      'vault://vault/secret/acmectl?auth=approle&auth_mount=/ci/approle/&role_id=r-1&secret_id=s3cret-id',
      { display: 'vault://vault/secret/acmectl?auth=approle&auth_mount=%2Fci%2Fapprole%2F&role_id=r-1&secret_id=***', protocol: 'http:', host: 'vault', port: 8200, mount: 'secret', pathPrefix: 'acmectl/', auth: { method: 'approle', mount: 'ci/approle', roleId: 'r-1' }, ...network },
    ],
    [
      'vault+https://vault/secret/acmectl?auth=kubernetes&role=acmectl',
      { display: 'vault+https://vault/secret/acmectl?auth=kubernetes&role=acmectl', protocol: 'https:', host: 'vault', port: 8200, mount: 'secret', pathPrefix: 'acmectl/', auth: { method: 'kubernetes', mount: 'kubernetes', role: 'acmectl', jwtFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' }, ...network },
    ],
    [
      'vault+https://vault/secret/acmectl?auth=kubernetes&role=acmectl&auth_mount=k8s-east&jwt_file=/run/jwt',
      { display: 'vault+https://vault/secret/acmectl?auth=kubernetes&role=acmectl&auth_mount=k8s-east&jwt_file=/run/jwt', protocol: 'https:', host: 'vault', port: 8200, mount: 'secret', pathPrefix: 'acmectl/', auth: { method: 'kubernetes', mount: 'k8s-east', role: 'acmectl', jwtFile: '/run/jwt' }, ...network },
    ],
  ];
  it.each(accepted)('%s', (url, expected) => {
    expect(shapeOf(parseVaultUrl(url, {}))).toEqual(expected);
  });

  it('is what parseStoreUrl returns for vault:// and vault+https:// (any case of the scheme)', () => {
    expect(parseStoreUrl('vault://h/?token=t0k')).toMatchObject({ kind: 'vault', config: { host: 'h', protocol: 'http:' } });
    expect(parseStoreUrl('VAULT+HTTPS://h/?token=t0k')).toMatchObject({ kind: 'vault', config: { host: 'h', protocol: 'https:' } });
  });

  it('takes the token from the URL, else ACMECTL_STORE_TOKEN, else token_file', () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'from-file\n');
    const tokenOf = (url: string, env: NodeJS.ProcessEnv = {}): string => {
      const { auth } = parseVaultUrl(url, { env });
      if (auth.method !== 'token') throw new Error('expected token auth');
      return auth.token.reveal();
    };
    expect(tokenOf('vault://h/?token=from-url', { ACMECTL_STORE_TOKEN: 'from-env' })).toBe('from-url');
    expect(tokenOf(`vault://h/?token_file=${tokenFile}`, { ACMECTL_STORE_TOKEN: 'from-env' })).toBe('from-env');
    expect(tokenOf(`vault://h/?token_file=${tokenFile}`)).toBe('from-file');
  });

  it('takes the AppRole secret ID from the URL, else ACMECTL_STORE_SECRET_ID, else secret_id_file', () => {
    const secretFile = join(dir, 'secret-id');
    writeFileSync(secretFile, 'id-from-file\n');
    const secretIdOf = (url: string, env: NodeJS.ProcessEnv = {}): string => {
      const { auth } = parseVaultUrl(url, { env });
      if (auth.method !== 'approle') throw new Error('expected approle auth');
      return auth.secretId.reveal();
    };
    const base = 'vault://h/?auth=approle&role_id=r';
    expect(secretIdOf(`${base}&secret_id=id-from-url`, { ACMECTL_STORE_SECRET_ID: 'id-from-env' })).toBe('id-from-url');
    expect(secretIdOf(`${base}&secret_id_file=${secretFile}`, { ACMECTL_STORE_SECRET_ID: 'id-from-env' })).toBe('id-from-env');
    expect(secretIdOf(`${base}&secret_id_file=${secretFile}`)).toBe('id-from-file');
  });

  it('keeps the --ca-bundle from the context', () => {
    expect(parseVaultUrl('vault+https://h/?token=t', { caBundlePem: 'PEM' }).caBundlePem).toBe('PEM');
  });

  it('never shows a secret when the config is printed, serialised or inspected', () => {
    const config = parseVaultUrl('vault://h/?auth=approle&role_id=r&secret_id=s3cret-id-value', {});
    const tokenConfig = parseVaultUrl('vault://h/?token=s3cret-token-value', {});
    for (const printed of [JSON.stringify(config), inspect(config, { depth: 10 }), String((config.auth as { secretId: SecretText }).secretId), JSON.stringify(tokenConfig), inspect(tokenConfig, { depth: 10 })]) {
      expect(printed).not.toMatch(/s3cret/);
    }
  });

  const rejected: Array<[string, RegExp, NodeJS.ProcessEnv?]> = [
    ['vault://?token=t', /needs a host/],
    ['vault://h/', /needs a Vault token/],
    ['vault://h/?token=', /needs a Vault token/],
    ['vault://user:s3cret@h/?token=t', /user name or password/],
    ['vault://h/?token=t#s3cret', /#fragment/],
    ['vault://h/?token=t&tokn=x', /unknown parameter "tokn"/],
    ['vault://h/?token=t&token=s3cret', /more than once/],
    ['vault://h/?token=t&timeout=0', /timeout/],
    ['vault://h/?token=t&timeout=fast', /timeout/],
    ['vault+https://h/?token=t&tls_verify=maybe', /tls_verify/],
    ['vault://h/?token=t&tls_verify=false', /applies only to TLS/],
    ['vault://h/?token=t&servername=x', /applies only to TLS/],
    ['vault://h/secret//acme?token=t', /empty/],
    ['vault://h/secret/a%2F..%2Fb?token=t', /"\.\."/],
    ['vault://h/secret/a%00b?token=t', /control characters/],
    ['vault://h/secret/%E0%A4%A?token=t', /malformed/],
    ['vault://h/?token=t&namespace=', /namespace/],
    ['vault://h/?token=t&namespace=a%20b', /namespace/],
    ['vault://h/?token=s3cret%20token', /spaces or control characters/],
    ['vault://h/?token=t&auth=ldap', /auth must be token, approle or kubernetes/],
    ['vault://h/?token=t&role=x', /role does not apply to auth=token/],
    ['vault://h/?token=t&auth_mount=x', /auth_mount does not apply to auth=token/],
    ['vault://h/?auth=approle&secret_id=s3cret', /needs role_id/],
    ['vault://h/?auth=approle&role_id=r', /needs a secret ID/],
    ['vault://h/?auth=approle&role_id=r&secret_id=s3cret&token=s3cret', /token does not apply to auth=approle/],
    ['vault://h/?auth=approle&role_id=r&secret_id=s3cret&auth_mount=a//b', /auth_mount/],
    ['vault://h/?auth=kubernetes', /needs role=/],
    ['vault://h/?auth=kubernetes&role=r&secret_id=s3cret', /secret_id does not apply to auth=kubernetes/],
    ['vault://h/?auth=kubernetes&role=r&jwt_file=', /jwt_file/],
    [`vault://h/?token_file=${join(tmpdir(), 'acmectl-no-such-token-file')}`, /cannot be read \(ENOENT\)/],
    ['vault://h host/?token=s3cret', /not a valid URL/],
  ];
  it.each(rejected)('%s → UsageError %s', (url, message, env = {}) => {
    let error: unknown;
    try {
      parseVaultUrl(url, { env });
    } catch (failure) {
      error = failure;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(message);
    expect(`${(error as Error).message} ${(error as UsageError).hint ?? ''}`).not.toMatch(/s3cret/);
  });

  it('names the redacted URL and the expected form in its errors', () => {
    let error: UsageError | undefined;
    try {
      parseVaultUrl('vault://h/?token=s3cret&bogus=1', {});
    } catch (failure) {
      error = failure as UsageError;
    }
    expect(error?.message).toMatch(/unknown parameter "bogus"/);
    try {
      parseVaultUrl('vault://h/?token=s3cret&auth=ldap', {});
    } catch (failure) {
      error = failure as UsageError;
    }
    expect(error?.message).toContain('vault://h/?token=***&auth=ldap');
    expect(error?.hint).toMatch(/vault\[\+https\]:\/\/HOST\[:PORT\]\/MOUNT\/PATH/);
  });
});
