import { describe, expect, it } from 'vitest';
import { UsageError } from '../domain/errors.js';
import { PRESET_NAMES, resolveCaDirectory } from './directory-presets.js';

describe('resolveCaDirectory', () => {
  it('knows every preset of docs/cli.md#ca-presets', () => {
    expect(PRESET_NAMES).toEqual(['letsencrypt', 'letsencrypt-staging', 'zerossl', 'buypass', 'buypass-staging', 'google', 'google-staging']);
  });
  it.each([
    ['letsencrypt', 'https://acme-v02.api.letsencrypt.org/directory', 'https://acme-staging-v02.api.letsencrypt.org/directory'],
    ['letsencrypt-staging', 'https://acme-staging-v02.api.letsencrypt.org/directory', 'https://acme-staging-v02.api.letsencrypt.org/directory'],
    ['zerossl', 'https://acme.zerossl.com/v2/DV90', null],
    ['buypass', 'https://api.buypass.com/acme/directory', 'https://api.test4.buypass.no/acme/directory'],
    ['google', 'https://dv.acme-v02.api.pki.goog/directory', 'https://dv.acme-v02.test-api.pki.goog/directory'],
    ['google-staging', 'https://dv.acme-v02.test-api.pki.goog/directory', 'https://dv.acme-v02.test-api.pki.goog/directory'],
  ])('%s', (name, url, stagingUrl) => {
    expect(resolveCaDirectory(name)).toEqual({ url, preset: name, stagingUrl });
  });
  it('accepts any https directory URL, and recognises a preset given as its URL', () => {
    expect(resolveCaDirectory('https://ca.internal:9000/acme/acme/directory')).toEqual({ url: 'https://ca.internal:9000/acme/acme/directory', preset: null, stagingUrl: null });
    expect(resolveCaDirectory('https://acme-v02.api.letsencrypt.org/directory').preset).toBe('letsencrypt');
  });
  it('accepts plain http only for a CA on this machine', () => {
    expect(resolveCaDirectory('http://127.0.0.1:14000/dir').url).toBe('http://127.0.0.1:14000/dir');
    expect(resolveCaDirectory('http://localhost:14000/dir').url).toBe('http://localhost:14000/dir');
    expect(() => resolveCaDirectory('http://ca.example.com/dir')).toThrow(UsageError);
    expect(resolveCaDirectory('http://[::1]:14000/dir').url).toBe('http://[::1]:14000/dir');
    expect(resolveCaDirectory('http://127.1:14000/dir').url).toBe('http://127.0.0.1:14000/dir');
  });
  it.each(['http://127.example.com/dir', 'http://127.0.0.1.nip.io/dir', 'http://localhost.example.com/dir', 'http://[::ffff:10.0.0.1]/dir', 'http://10.0.0.1/dir'])(
    'refuses plain http to %s, which is not this machine',
    (server) => {
      expect(() => resolveCaDirectory(server)).toThrow(/must start with https:\/\//);
    },
  );
  it('shows control characters of what was typed escaped', () => {
    expect(() => resolveCaDirectory('lets\u001b[2Jencrypt')).toThrow(/"lets\\u\{001b\}\[2Jencrypt" is neither a known CA nor a URL/);
  });
  it.each(['letsencrypt-prod', 'ftp://ca.example.com/dir', 'https://user:pw@ca.example.com/dir'])('refuses %s', (server) => {
    expect(() => resolveCaDirectory(server)).toThrow(UsageError);
  });
});
