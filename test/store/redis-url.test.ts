import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/domain/errors.js';
import { parseStoreUrl } from '../../src/store/open.js';
import { parseRedisUrl, type RedisStoreConfig } from '../../src/store/redis/url.js';
import type { StoreOpenContext } from '../../src/store/url-options.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir('redis-url-test');
const passwordFile = join(dir, 'redis-password');
// In a hook: at file scope, tempDir() only creates the directory in its own beforeAll, registered just before.
beforeAll(() => writeFileSync(passwordFile, 'from-file-secret\nsecond line is ignored\n', { mode: 0o600 }));

/** No environment at all, so a developer's own ACMECTL_STORE_PASSWORD cannot leak into the expectations. */
const noEnv: StoreOpenContext = { env: {} };

const defaults = {
  port: 6379,
  tls: false,
  db: 0,
  prefix: 'acmectl/',
  timeoutMs: 5000,
  tlsVerify: true,
};

describe('parseRedisUrl', () => {
  const accepted: Array<[string, Partial<RedisStoreConfig>]> = [
    ['redis://redis.internal', { ...defaults, host: 'redis.internal', display: 'redis://redis.internal' }],
    ['redis://127.0.0.1:6380/', { ...defaults, host: '127.0.0.1', port: 6380 }],
    ['redis://[::1]:6379/3', { ...defaults, host: '::1', db: 3 }],
    ['redis://redis.internal:6379/15?prefix=acme/', { ...defaults, host: 'redis.internal', db: 15, prefix: 'acme/' }],
    ['redis://h/0?prefix=', { ...defaults, host: 'h', prefix: '' }],
    ['redis://h/0?prefix=team%20a%2Facme%3A', { ...defaults, host: 'h', prefix: 'team a/acme:' }],
    ['rediss://redis.internal:6380/0', { ...defaults, host: 'redis.internal', port: 6380, tls: true }],
    ['REDISS://h', { ...defaults, host: 'h', tls: true }],
    ['rediss://h/0?tls_verify=false', { ...defaults, host: 'h', tls: true, tlsVerify: false }],
    ['rediss://h/0?tls_verify=0', { ...defaults, host: 'h', tls: true, tlsVerify: false }],
    ['rediss://h/0?tls_verify=true', { ...defaults, host: 'h', tls: true, tlsVerify: true }],
    ['rediss://10.0.0.5/0?servername=redis.internal', { ...defaults, host: '10.0.0.5', tls: true, servername: 'redis.internal' }],
    ['redis://h/0?timeout=2000', { ...defaults, host: 'h', timeoutMs: 2000 }],
    [
      'rediss://h:7000/2?prefix=p/&tls_verify=false&servername=s.internal&timeout=250',
      { ...defaults, host: 'h', port: 7000, db: 2, prefix: 'p/', tls: true, tlsVerify: false, servername: 's.internal', timeoutMs: 250 },
    ],
    ['redis://:s3cret@h/0', { ...defaults, host: 'h', password: 's3cret', display: 'redis://:***@h/0' }],
    ['redis://acme:s3cret@h/0', { ...defaults, host: 'h', username: 'acme', password: 's3cret', display: 'redis://acme:***@h/0' }],
    ['redis://acme@h/0', { ...defaults, host: 'h', username: 'acme' }],
    ['redis://us%40er:p%3Aw%40rd%25@h/0', { ...defaults, host: 'h', username: 'us@er', password: 'p:w@rd%' }],
  ];
  it.each(accepted)('%s', (url, expected) => {
    const config = parseRedisUrl(url, noEnv);
    expect(config).toMatchObject(expected);
    if (!('password' in expected)) expect(config.password).toBeUndefined();
    if (!('username' in expected)) expect(config.username).toBeUndefined();
    if (!('servername' in expected)) expect(config.servername).toBeUndefined();
    expect(config.display).not.toMatch(/s3cret|p:w@rd/);
  });

  it('passes the global --ca-bundle on as caBundlePem', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(parseRedisUrl('rediss://h/0', { env: {}, caBundlePem: pem }).caBundlePem).toBe(pem);
    expect(parseRedisUrl('rediss://h/0', noEnv).caBundlePem).toBeUndefined();
  });

  describe('the password', () => {
    it('comes from ACMECTL_STORE_PASSWORD when the URL has none', () => {
      const config = parseRedisUrl('redis://h/0', { env: { ACMECTL_STORE_PASSWORD: 'from-env-secret' } });
      expect(config.password).toBe('from-env-secret');
      expect(config.display).toBe('redis://h/0');
    });

    it('comes from the first line of ?password_file= when neither URL nor environment has one', () => {
      const config = parseRedisUrl(`redis://h/0?password_file=${encodeURIComponent(passwordFile)}`, noEnv);
      expect(config.password).toBe('from-file-secret');
      expect(config.display).not.toContain('from-file-secret');
    });

    it('prefers the URL, then the environment, then the file', () => {
      const url = `redis://:from-url@h/0?password_file=${encodeURIComponent(passwordFile)}`;
      const env = { ACMECTL_STORE_PASSWORD: 'from-env' };
      expect(parseRedisUrl(url, { env }).password).toBe('from-url');
      expect(parseRedisUrl(url.replace(':from-url@', ''), { env }).password).toBe('from-env');
      expect(parseRedisUrl(url.replace(':from-url@', ''), noEnv).password).toBe('from-file-secret');
    });

    it('keeps the user name when the password comes from elsewhere', () => {
      const config = parseRedisUrl('redis://acme@h/0', { env: { ACMECTL_STORE_PASSWORD: 'from-env' } });
      expect(config).toMatchObject({ username: 'acme', password: 'from-env' });
    });

    it('an unreadable password_file is a UsageError naming the file', () => {
      const missing = join(dir, 'no-such-file');
      const error = usageErrorOf(`redis://h/0?password_file=${encodeURIComponent(missing)}`);
      expect(error.message).toContain(missing);
      expect(error.message).toMatch(/ENOENT/);
    });
  });

  const rejected: Array<[string, RegExp]> = [
    ['redis://', /names no host/],
    ['redis:///0', /names no host/],
    ['redis:h', /names no host/],
    ['redis://h:99999/0', /not a valid URL/],
    ['redis://:s3cret@h:99999/0', /not a valid URL/],
    ['redis://h:0/0', /port 0/],
    ['redis://h/db1', /only the database number/],
    ['redis://h/0/acme', /only the database number/],
    ['redis://h/-1', /only the database number/],
    ['redis://h/99999999999', /only the database number/],
    ['redis://:s3cret@h/0#frag', /fragment/],
    ['redis://:s3cret@h/0?prefx=acme/', /unknown parameter "prefx"/],
    ['redis://:s3cret@h/0?password=s3cret', /unknown parameter "password"/],
    ['redis://h/0?tls_verify=no', /tls_verify must be true or false/],
    ['redis://h/0?timeout=0', /timeout must be milliseconds/],
    ['redis://h/0?timeout=2s', /timeout must be milliseconds/],
    ['redis://:s3cr%zzet@h/0', /malformed %-escape/],
    ['http://h/0', /redis:\/\/ or rediss:\/\//],
  ];
  it.each(rejected)('%j → UsageError %s', (url, message) => {
    const error = usageErrorOf(url);
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/s3cr/);
    expect(error.hint ?? '').not.toMatch(/s3cr/);
  });

  it('says which form it expects', () => {
    expect(usageErrorOf('redis://').message).toContain('redis://[[user]:password@]host[:port][/db][?prefix=acme/]');
    expect(usageErrorOf('redis://h/x').hint).toMatch(/\?prefix=/);
    expect(usageErrorOf('redis://h/0?prefx=a').hint).toMatch(/prefix, password_file, timeout, tls_verify, servername/);
  });
});

describe('parseStoreUrl dispatches redis:// and rediss:// here', () => {
  it.each([
    ['redis://h:6379/1?prefix=x/', { host: 'h', db: 1, prefix: 'x/', tls: false }],
    ['rediss://h:6380/0', { host: 'h', port: 6380, tls: true }],
  ])('%s', (url, expected) => {
    const parsed = parseStoreUrl(url, noEnv);
    expect(parsed.kind).toBe('redis');
    expect(parsed.kind === 'redis' ? parsed.config : undefined).toMatchObject(expected);
  });
});

function usageErrorOf(url: string): UsageError {
  try {
    parseRedisUrl(url, noEnv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error(`${url} should have been rejected`);
}
