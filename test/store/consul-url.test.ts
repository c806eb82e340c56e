import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/domain/errors.js';
import { parseConsulUrl, type ConsulStoreConfig } from '../../src/store/consul/url.js';
import { parseStoreUrl } from '../../src/store/open.js';
import { tempDir } from '../support/temp-dir.js';

const scratch = tempDir('consul-url-test');

const noEnv = { env: {} };
const defaults = { protocol: 'http' as const, port: 8500, kvPath: 'acmectl/', timeoutMs: 5000, tlsVerify: true };

describe('parseConsulUrl', () => {
  const accepted: Array<[string, Partial<ConsulStoreConfig>]> = [
    ['consul://consul.internal:8500/acmectl/', { ...defaults, host: 'consul.internal', display: 'consul://consul.internal:8500/acmectl/' }],
    ['consul://127.0.0.1', { ...defaults, host: '127.0.0.1' }],
    ['consul:///', { ...defaults, host: '127.0.0.1' }],
    ['CONSUL://Consul.Internal:18500/kv/path/prefix', { ...defaults, host: 'Consul.Internal', port: 18500, kvPath: 'kv/path/prefix/' }],
    ['consul://[::1]:8500/a%20b/c%C3%A9/', { ...defaults, host: '::1', kvPath: 'a b/cé/' }],
    ['consul://h/acme?timeout=2000&dc=eu-west_1', { ...defaults, host: 'h', kvPath: 'acme/', timeoutMs: 2000, datacenter: 'eu-west_1' }],
    ['consul+https://h/acme/', { ...defaults, protocol: 'https', port: 8501, host: 'h', kvPath: 'acme/' }],
    [
      'consul+https://h:8443/acme/?tls_verify=false&servername=consul.service&token=abc',
      {
        ...defaults,
        protocol: 'https',
        port: 8443,
        host: 'h',
        kvPath: 'acme/',
        tlsVerify: false,
        servername: 'consul.service',
        display: 'consul+https://h:8443/acme/?tls_verify=false&servername=consul.service&token=***',
      },
    ],
  ];
  it.each(accepted)('%s', (url, expected) => {
    const config = parseConsulUrl(url, noEnv);
    expect(config).toMatchObject(expected);
    if (expected.datacenter === undefined) expect(config.datacenter).toBeUndefined();
    if (expected.servername === undefined) expect(config.servername).toBeUndefined();
  });

  it('dispatches consul:// and consul+https:// from parseStoreUrl', () => {
    expect(parseStoreUrl('consul://h/x/', noEnv)).toMatchObject({ kind: 'consul', config: { host: 'h', kvPath: 'x/' } });
    expect(parseStoreUrl('consul+https://h/x/', noEnv)).toMatchObject({ kind: 'consul', config: { protocol: 'https' } });
  });

  it('takes the --ca-bundle for consul+https:// only', () => {
    expect(parseConsulUrl('consul+https://h/', { caBundlePem: 'PEM' }).caBundlePem).toBe('PEM');
    expect(parseConsulUrl('consul://h/', { caBundlePem: 'PEM' }).caBundlePem).toBeUndefined();
  });

  describe('token', () => {
    it('from ?token= first, then ACMECTL_STORE_TOKEN, then ?token_file= (first line)', () => {
      const file = join(scratch, 'token');
      writeFileSync(file, 'from-file\nsecond line\n');
      expect(parseConsulUrl(`consul://h/?token=from-url&token_file=${file}`, { env: { ACMECTL_STORE_TOKEN: 'from-env' } }).token).toBe('from-url');
      expect(parseConsulUrl(`consul://h/?token_file=${file}`, { env: { ACMECTL_STORE_TOKEN: 'from-env' } }).token).toBe('from-env');
      expect(parseConsulUrl(`consul://h/?token_file=${file}`, noEnv).token).toBe('from-file');
      expect(parseConsulUrl('consul://h/', noEnv).token).toBeUndefined();
    });

    it('is not enumerable: printing or comparing the config never shows it', () => {
      const config = parseConsulUrl('consul://h/?token=s3cret-token', noEnv);
      expect(config.token).toBe('s3cret-token');
      expect(JSON.stringify(config)).not.toContain('s3cret-token');
      expect(Object.keys(config)).not.toContain('token');
      expect(config.display).toBe('consul://h/?token=***');
    });
  });

  const rejected: Array<[string, RegExp]> = [
    ['consul://h:99999/?token=s3cret', /not a valid URL/],
    ['consul://h:0/?token=s3cret', /port must be from 1 to 65535/],
    ['consul://user:s3cret@h/', /no user name or password/],
    ['consul://h/acme?tokn=s3cret', /unknown parameter "tokn"/],
    ['consul://h/?token=s3cret#frag', /"#\.\.\." part/],
    ['consul://h/a//b/?token=s3cret', /empty segment/],
    ['consul://h/a%2Fb/?token=s3cret', /encoded "\/"/],
    ['consul://h/a%01b/?token=s3cret', /control character/],
    ['consul://h/a%ZZ/?token=s3cret', /not a valid URL|percent-encoding/],
    ['consul://h/?tls_verify=false&token=s3cret', /tls_verify applies to consul\+https:\/\/ only/],
    ['consul://h/?servername=x&token=s3cret', /servername applies to consul\+https:\/\/ only/],
    ['consul+https://h/?tls_verify=maybe&token=s3cret', /tls_verify must be true or false/],
    ['consul://h/?timeout=0&token=s3cret', /timeout must be milliseconds/],
    ['consul://h/?dc=eu%20west&token=s3cret', /dc must be a datacenter name/],
    ['consul://h/?token_file=/nonexistent/acmectl-token', /token_file \/nonexistent\/acmectl-token cannot be read/],
  ];
  it.each(rejected)('%s → UsageError %s', (url, message) => {
    const error = usageErrorOf(url);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('s3cret');
    expect(String(error.cause ?? '')).not.toContain('s3cret');
  });

  it('refuses a token an HTTP header cannot carry, without echoing it', () => {
    const error = usageErrorOf('consul://h/', { ACMECTL_STORE_TOKEN: 's3cret\nX-Injected: 1' });
    expect(error.message).toMatch(/characters an HTTP header cannot carry/);
    expect(error.message).not.toContain('s3cret');
  });

  it('refuses an empty token file', () => {
    const file = join(scratch, 'empty-token');
    writeFileSync(file, '\n');
    expect(usageErrorOf(`consul://h/?token_file=${file}`).message).toMatch(/token_file is empty/);
  });
});

function usageErrorOf(url: string, env: NodeJS.ProcessEnv = {}): UsageError {
  try {
    parseConsulUrl(url, { env });
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error(`${url} should have been rejected`);
}
