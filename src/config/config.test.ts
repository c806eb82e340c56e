import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { UsageError } from '../domain/errors.js';
import { dataDirectory } from './data-dir.js';
import { loadConfigFile } from './load-file.js';
import { resolveSettings, validateConfigFile } from './resolve.js';
import { SETTINGS, SETTING_KEYS, defaultSettings, envName } from './settings.js';

const examplePath = join(import.meta.dirname, '..', '..', 'acmectl.config.example.json');

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('acmectl.config.example.json', () => {
  const example = JSON.parse(readFileSync(examplePath, 'utf8')) as Record<string, unknown>;
  it('lists every key, each with its default', () => {
    expect(Object.keys(example).sort()).toEqual([...SETTING_KEYS].sort());
    expect(example).toEqual(defaultSettings());
  });
  it('passes the validator', () => {
    expect(validateConfigFile({ path: examplePath, values: example })).toEqual(defaultSettings());
  });
  it('is found and loaded by the real loader', async () => {
    const loaded = await loadConfigFile(examplePath);
    expect(loaded?.values).toEqual(example);
  });
});

describe('precedence: flag > environment > file > default', () => {
  const file = { path: '/etc/acmectl.json', values: { httpPort: 8080, keyType: 'rsa2048', email: 'file@example.com' } };
  it('takes the default when nothing is given', () => {
    const { settings, sources } = resolveSettings({});
    expect(settings.httpPort).toBe(80);
    expect(sources.httpPort).toBe('default');
  });
  it('file beats default', () => {
    const { settings, sources } = resolveSettings({ file });
    expect(settings.httpPort).toBe(8080);
    expect(sources.httpPort).toBe('file');
  });
  it('environment beats file', () => {
    const { settings, sources } = resolveSettings({ file, env: { ACMECTL_HTTP_PORT: '8081' } });
    expect(settings.httpPort).toBe(8081);
    expect(sources.httpPort).toBe('env');
    expect(settings.keyType).toBe('rsa2048');
  });
  it('flag beats environment', () => {
    const { settings, sources } = resolveSettings({ file, env: { ACMECTL_HTTP_PORT: '8081' }, flags: { httpPort: '8082' } });
    expect(settings.httpPort).toBe(8082);
    expect(sources.httpPort).toBe('flag');
    expect(settings.email).toBe('file@example.com');
  });
  it('derives environment names from flags', () => {
    expect(envName('httpPort')).toBe('ACMECTL_HTTP_PORT');
    expect(envName('eabHmacKey')).toBe('ACMECTL_EAB_HMAC_KEY');
    expect(envName('caBundle')).toBe('ACMECTL_CA_BUNDLE');
  });
  it('reads booleans from the environment', () => {
    expect(resolveSettings({ env: { ACMECTL_AGREE_TOS: 'yes' } }).settings.agreeTos).toBe(true);
    expect(resolveSettings({ env: { ACMECTL_AGREE_TOS: '0' } }).settings.agreeTos).toBe(false);
  });
});

describe('validation names the key and where it came from', () => {
  it.each([
    [{ httpPort: '80' }, /key "httpPort" in config file \/x\.json: expected a whole number/],
    [{ httpPort: 70000 }, /key "httpPort" .*from 1 to 65535, got 70000/],
    [{ keyType: 'rsa1024' }, /key "keyType" .*one of ec256, ec384, rsa2048, rsa3072, rsa4096/],
    [{ agreeTos: 'yes' }, /key "agreeTos" .*true or false/],
    [{ email: '' }, /key "email" .*non-empty string/],
    [{ htpPort: 80 }, /unknown key "htpPort"/],
  ])('file %j', (values, message) => {
    const error = usageError(() => resolveSettings({ file: { path: '/x.json', values } }));
    expect(error.message).toMatch(message);
    expect(error.exitCode).toBe(2);
  });
  it('refuses a file that is not an object', () => {
    expect(usageError(() => validateConfigFile({ path: '/x.json', values: [1] })).message).toMatch(/expected an object/);
  });
  it('names the environment variable', () => {
    expect(usageError(() => resolveSettings({ env: { ACMECTL_HTTP_PORT: 'eighty' } })).message).toMatch(/environment variable ACMECTL_HTTP_PORT/);
  });
  it('names the flag', () => {
    expect(usageError(() => resolveSettings({ flags: { keyType: 'dsa' } })).message).toMatch(/--key-type: expected one of/);
  });
  it('reports a syntax error in the file as bad input', async () => {
    const dir = tempDir('config');
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "httpPort": 80,, }');
    await expect(loadConfigFile(path)).rejects.toThrow(UsageError);
  });
  it('refuses a --config file that does not exist', async () => {
    await expect(loadConfigFile('/nonexistent/acmectl.json')).rejects.toThrow(/does not exist/);
  });
  it('finds acmectl.config.json by searching from the working directory', async () => {
    const dir = tempDir('config');
    writeFileSync(join(dir, 'acmectl.config.json'), JSON.stringify({ httpPort: 8888 }));
    const loaded = await loadConfigFile(undefined, dir);
    expect(loaded?.path).toBe(join(dir, 'acmectl.config.json'));
    expect(resolveSettings({ file: loaded }).settings.httpPort).toBe(8888);
  });
});

describe('data directory (docs/cli.md#where-things-live)', () => {
  it('uses ACMECTL_HOME first', () => expect(dataDirectory({ ACMECTL_HOME: '/srv/acme' }, 0)).toBe('/srv/acme'));
  it('uses /var/lib/acmectl for root', () => expect(dataDirectory({}, 0)).toBe('/var/lib/acmectl'));
  it('uses XDG_DATA_HOME for other users', () => expect(dataDirectory({ XDG_DATA_HOME: '/home/u/.data' }, 1000)).toBe('/home/u/.data/acmectl'));
  it('falls back to ~/.local/share', () => expect(dataDirectory({}, 1000)).toMatch(/\/\.local\/share\/acmectl$/));
});

describe('settings table', () => {
  it('has a unique flag per key', () => {
    const flags = SETTING_KEYS.map((key) => SETTINGS[key].flag);
    expect(new Set(flags).size).toBe(flags.length);
  });
});
