import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { UsageError } from '../domain/errors.js';
import { dataDirectory } from './data-dir.js';
import { loadConfigFile } from './load-file.js';
import { resolveSettings, validateConfigFile } from './resolve.js';
import { PKCS12_PASSWORD_ENV } from '../deploy/formats.js';
import { CONSUL_TOKEN_ENV } from '../store/consul/url.js';
import { ETCD_PASSWORD_ENV } from '../store/etcd/url.js';
import { REDIS_PASSWORD_ENV } from '../store/redis/url.js';
import { FILE_SETTING_KEYS, SETTINGS, SETTING_KEYS, defaultSettings, envName, secretEnvironmentNames } from './settings.js';

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
  const fileDefaults = Object.fromEntries(FILE_SETTING_KEYS.map((key) => [key, defaultSettings()[key]]));
  it('lists every key a file may hold, each with its default', () => {
    expect(Object.keys(example).sort()).toEqual([...FILE_SETTING_KEYS].sort());
    expect(FILE_SETTING_KEYS).toEqual(SETTING_KEYS.filter((key) => !('envOnly' in SETTINGS[key])));
    expect(example).toEqual(fileDefaults);
  });
  it('passes the validator', () => {
    expect(validateConfigFile({ path: examplePath, values: example })).toEqual(fileDefaults);
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
  it('reads the renew options from the environment and the file too', () => {
    expect(resolveSettings({ env: { ACMECTL_DAYS: '30' } }).settings.days).toBe(30);
    expect(resolveSettings({ file: { path: '/x.json', values: { days: 20, randomSleep: false } } }).settings).toMatchObject({ days: 20, randomSleep: false });
    expect(resolveSettings({}).settings).toMatchObject({ days: null, randomSleep: null });
  });
  it.each([
    [{ ACMECTL_NO_RANDOM_SLEEP: '1' }, false],
    [{ ACMECTL_NO_RANDOM_SLEEP: 'false' }, true],
    [{ ACMECTL_RANDOM_SLEEP: 'no' }, false],
    [{ ACMECTL_RANDOM_SLEEP: 'yes', ACMECTL_NO_RANDOM_SLEEP: '0' }, true],
  ])('reads a negatable switch from ACMECTL_<FLAG> and ACMECTL_NO_<FLAG>: %j', (env, expected) => {
    expect(resolveSettings({ env }).settings.randomSleep).toBe(expected);
    expect(resolveSettings({ env }).sources.randomSleep).toBe('env');
  });
  it('lets --random-sleep beat ACMECTL_NO_RANDOM_SLEEP', () => {
    expect(resolveSettings({ env: { ACMECTL_NO_RANDOM_SLEEP: '1' }, flags: { randomSleep: true } }).settings.randomSleep).toBe(true);
  });
  it('reads the store secrets from the environment only', () => {
    const { settings, sources } = resolveSettings({ env: { ACMECTL_STORE_PASSWORD: 'pw' }, flags: { storeToken: 'from-a-flag' } as never });
    expect(settings.storePassword).toBe('pw');
    expect(sources.storePassword).toBe('env');
    expect(settings.storeToken).toBeNull();
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
  it.each([
    ['constructor', '{"constructor": "x"}'],
    ['toString', '{"toString": 1}'],
    ['__proto__', '{"__proto__": {"httpPort": 8080}}'],
    ['hasOwnProperty', '{"hasOwnProperty": null}'],
  ])('refuses the inherited key %s as unknown', (key, json) => {
    const error = usageError(() => resolveSettings({ file: { path: '/x.json', values: JSON.parse(json) } }));
    expect(error.message).toBe(`config file /x.json: unknown key "${key}"`);
  });
  it('refuses the environment-only secrets in a file, naming their variable', () => {
    expect(usageError(() => validateConfigFile({ path: '/x.json', values: { storePassword: 'pw' } })).message).toMatch(/key "storePassword" is read from the environment only \(ACMECTL_STORE_PASSWORD\)/);
  });
  it('shows control characters of an unknown key escaped', () => {
    expect(usageError(() => validateConfigFile({ path: '/x.json', values: { 'a\u001b[2Jb': 1 } })).message).toContain('unknown key "a\\u{001b}[2Jb"');
  });
  it.each([null, [1], 'text', 42])('refuses a file holding %j', (values) => {
    expect(usageError(() => validateConfigFile({ path: '/x.json', values })).message).toMatch(/^config file \/x\.json: expected an object of settings/);
  });
  it('refuses a file that is not an object', () => {
    expect(usageError(() => validateConfigFile({ path: '/x.json', values: [1] })).message).toMatch(/expected an object/);
  });
  it.each([
    [{ ACMECTL_DAYS: 'abc' }, 'environment variable ACMECTL_DAYS: expected a whole number from 0 to 3650, got "abc"'],
    [{ ACMECTL_DAYS: '4000' }, 'environment variable ACMECTL_DAYS: expected a whole number from 0 to 3650, got 4000'],
    [{ ACMECTL_NO_RANDOM_SLEEP: 'maybe' }, 'environment variable ACMECTL_NO_RANDOM_SLEEP: expected true or false, got "maybe"'],
    [{ ACMECTL_RANDOM_SLEEP: '1', ACMECTL_NO_RANDOM_SLEEP: '1' }, 'environment variables ACMECTL_RANDOM_SLEEP and ACMECTL_NO_RANDOM_SLEEP contradict each other: set one of them'],
    [{ ACMECTL_HTTP_PORT: '8\u001b[2J0' }, 'environment variable ACMECTL_HTTP_PORT: expected a whole number from 1 to 65535, got "8\\u{001b}[2J0"'],
  ])('refuses the environment %j, naming the variable', (env, message) => {
    expect(usageError(() => resolveSettings({ env })).message).toBe(message);
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
  it.each([
    ['acmectl.config.json', ''],
    ['acmectl.config.json', '  \n'],
    ['acmectl.config.json', 'null'],
    ['.acmectlrc.yaml', '# nothing but a comment\n'],
    ['.acmectlrc.yaml', '~'],
    ['acmectl.config.cjs', 'module.exports = null;'],
  ])('refuses an empty or null %s (%j), given or found', async (name, content) => {
    const dir = tempDir('config');
    writeFileSync(join(dir, name), content);
    await expect(loadConfigFile(join(dir, name))).rejects.toThrow(new RegExp(`config file ${join(dir, name)} (is empty|holds null)`));
    await expect(loadConfigFile(undefined, dir)).rejects.toThrow(new RegExp(`config file ${join(dir, name)} (is empty|holds null)`));
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

  // The search is skipped when no file can be found (cosmiconfig is then not even loaded): it must still find
  // every kind of file, anywhere cosmiconfig looks. The process's working directory holds cosmiconfig's own
  // settings files (the repository's package.json would do), so these tests run from an empty one.
  async function fromEmptyDirectory<T>(run: () => Promise<T>): Promise<T> {
    const back = process.cwd();
    process.chdir(tempDir('config-cwd'));
    try {
      return await run();
    } finally {
      process.chdir(back);
    }
  }

  it.each([
    ['.acmectlrc.yaml', 'httpPort: 8889\n'],
    ['.config/acmectlrc.json', '{"httpPort": 8889}'],
    ['package.json', '{"name": "site", "acmectl": {"httpPort": 8889}}'],
    ['acmectl.config.cjs', 'module.exports = { httpPort: 8889 };'],
  ])('finds %s in a directory above the working directory', async (name, content) => {
    const top = tempDir('config');
    mkdirSync(join(top, '.config'));
    mkdirSync(join(top, 'a', 'b'), { recursive: true });
    writeFileSync(join(top, name), content);
    const loaded = await fromEmptyDirectory(() => loadConfigFile(undefined, join(top, 'a', 'b')));
    expect(loaded?.path).toBe(join(top, name));
    expect(resolveSettings({ file: loaded }).settings.httpPort).toBe(8889);
  });

  it('finds the global file in $XDG_CONFIG_HOME/acmectl, and nothing when there is no file anywhere', async () => {
    const saved = process.env.XDG_CONFIG_HOME;
    const xdg = tempDir('config-xdg');
    process.env.XDG_CONFIG_HOME = xdg;
    try {
      const nowhere = tempDir('config');
      expect(await fromEmptyDirectory(() => loadConfigFile(undefined, nowhere))).toBeNull();
      mkdirSync(join(xdg, 'acmectl'));
      writeFileSync(join(xdg, 'acmectl', 'config.json'), '{"httpPort": 8890}');
      const loaded = await fromEmptyDirectory(() => loadConfigFile(undefined, nowhere));
      expect(loaded?.path).toBe(join(xdg, 'acmectl', 'config.json'));
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });
});

describe('data directory (docs/cli.md#where-things-live)', () => {
  it('uses ACMECTL_HOME first', () => expect(dataDirectory({ ACMECTL_HOME: '/srv/acme' }, 0)).toBe('/srv/acme'));
  it('uses /var/lib/acmectl for root', () => expect(dataDirectory({}, 0)).toBe('/var/lib/acmectl'));
  it('uses XDG_DATA_HOME for other users', () => expect(dataDirectory({ XDG_DATA_HOME: '/home/u/.data' }, 1000)).toBe('/home/u/.data/acmectl'));
  it('falls back to ~/.local/share', () => expect(dataDirectory({}, 1000)).toMatch(/\/\.local\/share\/acmectl$/));
});

describe('settings table', () => {
  it('names every secret variable of acmectl, for hooks to run without them', () => {
    expect(secretEnvironmentNames().sort()).toEqual(
      ['ACMECTL_EAB_HMAC_KEY', 'ACMECTL_STORE_PASSWORD', 'ACMECTL_STORE_TOKEN', 'ACMECTL_STORE_SECRET_ID', 'ACMECTL_PKCS12_PASSWORD'].sort(),
    );
    // The variables the stores and the exporter read are the table's, not spelled again elsewhere.
    expect(secretEnvironmentNames()).toEqual(expect.arrayContaining([REDIS_PASSWORD_ENV, ETCD_PASSWORD_ENV, CONSUL_TOKEN_ENV, PKCS12_PASSWORD_ENV]));
  });
  it('has a unique flag per key', () => {
    const flags = SETTING_KEYS.map((key) => SETTINGS[key].flag);
    expect(new Set(flags).size).toBe(flags.length);
  });
});
