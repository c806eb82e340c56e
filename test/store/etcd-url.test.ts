import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/domain/errors.js';
import { parseEtcdUrl, type EtcdStoreConfig } from '../../src/store/etcd/url.js';
import { parseStoreUrl } from '../../src/store/open.js';
import { tempDir } from '../support/temp-dir.js';

const scratch = tempDir('etcd-url-test');

/** No environment: ACMECTL_STORE_PASSWORD of whoever runs the tests must not leak in. */
const noEnv = { env: {} };

function usageErrorOf(url: string, context: Parameters<typeof parseEtcdUrl>[1] = noEnv): UsageError {
  try {
    parseEtcdUrl(url, context);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error(`${url} was accepted`);
}

/** The parts of a config a table can state (credentials separately: the password is not enumerable). */
function summary(config: EtcdStoreConfig) {
  return {
    endpoints: config.endpoints,
    prefix: config.prefix,
    timeoutMs: config.timeoutMs,
    tlsVerify: config.tlsVerify,
    servername: config.servername,
    display: config.display,
    username: config.credentials?.username,
    password: config.credentials?.password,
  };
}

describe('parseEtcdUrl', () => {
  const defaults = { prefix: 'acmectl/', timeoutMs: 5000, tlsVerify: true, servername: undefined, username: undefined, password: undefined };
  const accepted: Array<[string, Partial<ReturnType<typeof summary>>]> = [
    ['etcd://127.0.0.1:2379', { ...defaults, endpoints: ['http://127.0.0.1:2379'], display: 'etcd://127.0.0.1:2379' }],
    ['etcd://etcd.internal', { ...defaults, endpoints: ['http://etcd.internal:2379'] }],
    ['etcd://ETCD.Internal:2379/', { ...defaults, endpoints: ['http://etcd.internal:2379'] }],
    ['etcd://[::1]:2379/', { ...defaults, endpoints: ['http://[::1]:2379'] }],
    ['etcd://[::1]/', { ...defaults, endpoints: ['http://[::1]:2379'] }],
    [
      'etcd://etcd-1:2379,etcd-2:2380,10.0.0.3/acme/prod',
      {
        ...defaults,
        endpoints: ['http://etcd-1:2379', 'http://etcd-2:2380', 'http://10.0.0.3:2379'],
        prefix: 'acme/prod/',
        display: 'etcd://etcd-1:2379,etcd-2:2380,10.0.0.3:2379/acme/prod',
      },
    ],
    ['etcd://h/acme/', { prefix: 'acme/' }],
    ['etcd://h//acme//', { prefix: 'acme/' }],
    ['etcd://h/team%20a/acme%2Fx', { prefix: 'team a/acme/x/' }],
    ['etcd://h/?timeout=2000', { timeoutMs: 2000, prefix: 'acmectl/' }],
    [
      'etcd+https://etcd.internal:2379/acme?tls_verify=false&servername=etcd.example.com',
      { endpoints: ['https://etcd.internal:2379'], prefix: 'acme/', tlsVerify: false, servername: 'etcd.example.com' },
    ],
    ['ETCD+HTTPS://a:1,b:2/', { endpoints: ['https://a:1', 'https://b:2'] }],
    [
      'etcd://root:s3cret@h1:2379,h2:2379/acme',
      { username: 'root', password: 's3cret', display: 'etcd://root:***@h1:2379,h2:2379/acme' },
    ],
    [
      'etcd://acme%20ops:p%40ss%3Aw%2Frd@h/',
      { username: 'acme ops', password: 'p@ss:w/rd', display: 'etcd://acme%20ops:***@h:2379/' },
    ],
    ['etcd://root:p@ss@h1,h2/', { username: 'root', password: 'p@ss', display: 'etcd://root:***@h1:2379,h2:2379/' }],
    ['etcd://root:s3cret@h/?username=root', { username: 'root', password: 's3cret' }],
  ];
  it.each(accepted)('%s', (url, expected) => {
    expect(summary(parseEtcdUrl(url, noEnv))).toMatchObject(expected);
  });

  it('the display never holds the password, however the userinfo is spelled', () => {
    for (const url of ['etcd://root:s3cret@h1,h2/', 'etcd://root:s3c@ret@h1,h2/', 'etcd://root:s3cret@h/', 'etcd://root:s3c,ret@h1,h2/']) {
      expect(parseEtcdUrl(url, noEnv).display, url).not.toMatch(/s3c|ret@/);
    }
  });

  it('keeps the password out of inspect() and JSON of the config', () => {
    const config = parseEtcdUrl('etcd://root:s3cret@h/', noEnv);
    expect(config.credentials?.password).toBe('s3cret');
    expect(JSON.stringify(config)).not.toContain('s3cret');
    expect(inspect(config, { depth: 5 })).not.toContain('s3cret');
  });

  it('takes the password from ACMECTL_STORE_PASSWORD when the URL names a user without one', () => {
    const config = parseEtcdUrl('etcd://h/?username=acme', { env: { ACMECTL_STORE_PASSWORD: 'from-env' } });
    expect(config.credentials).toMatchObject({ username: 'acme', password: 'from-env' });
    expect(config.display).toBe('etcd://h:2379/?username=acme');
  });

  it('takes the password from ?password_file= (first line)', () => {
    const file = join(scratch, 'password');
    writeFileSync(file, 'from-file\nsecond line ignored\n', { mode: 0o600 });
    const config = parseEtcdUrl(`etcd://acme@h/?password_file=${encodeURIComponent(file)}`, noEnv);
    expect(config.credentials).toMatchObject({ username: 'acme', password: 'from-file' });
  });

  it('ignores ACMECTL_STORE_PASSWORD when the URL names no user (the variable is shared with other stores)', () => {
    expect(parseEtcdUrl('etcd://h/', { env: { ACMECTL_STORE_PASSWORD: 'for-redis' } }).credentials).toBeUndefined();
  });

  it('passes the --ca-bundle on', () => {
    expect(parseEtcdUrl('etcd+https://h/', { env: {}, caBundlePem: 'PEM' }).caBundlePem).toBe('PEM');
  });

  it('is what parseStoreUrl returns for etcd:// and etcd+https://', () => {
    expect(parseStoreUrl('etcd://h1,h2/p', noEnv)).toMatchObject({ kind: 'etcd', config: { endpoints: ['http://h1:2379', 'http://h2:2379'] } });
    expect(parseStoreUrl('etcd+https://h/p', noEnv)).toMatchObject({ kind: 'etcd', config: { endpoints: ['https://h:2379'] } });
  });

  const rejected: Array<[string, RegExp]> = [
    ['etcd:h:2379', /malformed/],
    ['etcd:///acme', /no host/],
    ['etcd://root:s3cret@/acme', /no host/],
    ['etcd://h1,,h2/', /empty host/],
    ['etcd://h1,/', /empty host/],
    ['etcd://h:99999/', /invalid host "h:99999"/],
    ['etcd://h:port/', /invalid host/],
    ['etcd://h o/', /invalid host/],
    ['etcd://[::1/', /invalid host/],
    ['etcd://h/acme#frag', /fragment/],
    ['etcd://h/a/../b', /invalid segment/],
    ['etcd://h/a/%2E%2E/b', /invalid segment/],
    ['etcd://h/a%00b', /invalid segment/],
    ['etcd://h/a%zz', /percent-escape/],
    ['etcd://h/?tls_verfy=false', /unknown parameter "tls_verfy"/],
    ['etcd://h/?prefix=acme/', /unknown parameter "prefix"/],
    ['etcd://h/?password=s3cret', /unknown parameter "password"/],
    ['etcd://h/?timeout=0', /timeout/],
    ['etcd://h/?timeout=soon', /timeout/],
    ['etcd+https://h/?tls_verify=maybe', /tls_verify/],
    ['etcd://h/?tls_verify=false', /only apply to etcd\+https/],
    ['etcd://h/?servername=x', /only apply to etcd\+https/],
    ['etcd://:s3cret@h/', /password but no user/],
    ['etcd://h/?password_file=/nonexistent', /password but no user/],
    ['etcd://root@h/', /no password/],
    ['etcd://alice:s3cret@h/?username=bob', /two different users/],
    ['etcd://root:s3cret%zz@h/', /percent-escape/],
    ['etcd://root@h/?password_file=/nonexistent/acmectl-password', /password_file .* cannot be read/],
  ];
  it.each(rejected)('%j → UsageError %s', (url, message) => {
    const error = usageErrorOf(url);
    expect(error.message).toMatch(message);
    expect(error.exitCode).toBe(2);
    expect(`${error.message}\n${error.hint ?? ''}`).not.toMatch(/s3cret/);
  });

  it('says what form it expects', () => {
    expect(usageErrorOf('etcd://h1,,h2/').hint).toMatch(/etcd:\/\/\[user\[:password\]@\]host:2379\[,host2:2379\]\/prefix/);
  });
});
