import { UsageError } from '../domain/errors.js';
import { visibleText } from '../domain/visible-text.js';
import { FILE_SETTING_KEYS, SETTINGS, SETTING_KEYS, defaultSettings, envName, isEnvOnly, negatedEnvName } from './settings.js';
import type { SettingKey, SettingSource, Settings } from './settings.js';

/** Values as commander hands them over: strings for valued flags, booleans for switches, undefined when absent. */
export type FlagValues = Partial<Record<SettingKey, string | boolean | undefined>>;

export interface ConfigFile {
  /** Path of the file the values came from, for messages. */
  path: string;
  values: unknown;
}

export interface ResolvedSettings {
  settings: Settings;
  sources: Record<SettingKey, SettingSource>;
}

/**
 * Applies precedence flag > ACMECTL_* environment > config file > default, validating each value where it
 * comes from so that the message names the flag, the variable or the key and file. Throws UsageError.
 */
export function resolveSettings(input: { flags?: FlagValues; env?: NodeJS.ProcessEnv; file?: ConfigFile | null }): ResolvedSettings {
  const fileValues = input.file ? validateConfigFile(input.file) : {};
  const settings = defaultSettings() as Record<SettingKey, unknown>;
  const sources = Object.fromEntries(SETTING_KEYS.map((key) => [key, 'default'])) as Record<SettingKey, SettingSource>;
  for (const key of SETTING_KEYS) {
    const flag = isEnvOnly(key) || !Object.hasOwn(input.flags ?? {}, key) ? undefined : input.flags?.[key];
    const env = input.env ? fromEnvironment(key, input.env) : undefined;
    if (flag !== undefined) {
      settings[key] = typeof flag === 'boolean' ? checkBoolean(key, flag, `--${SETTINGS[key].flag}`) : parseText(key, flag, `--${SETTINGS[key].flag}`);
      sources[key] = 'flag';
    } else if (env !== undefined) {
      settings[key] = env;
      sources[key] = 'env';
    } else if (Object.hasOwn(fileValues, key)) {
      settings[key] = fileValues[key];
      sources[key] = 'file';
    }
  }
  return { settings: settings as Settings, sources };
}

/** The setting's value from ACMECTL_<FLAG> (or ACMECTL_NO_<FLAG> for a negatable switch); undefined when unset or empty. */
function fromEnvironment(key: SettingKey, env: NodeJS.ProcessEnv): unknown {
  const name = envName(key);
  const negated = negatedEnvName(key);
  const value = Object.hasOwn(env, name) && env[name] !== '' ? parseText(key, env[name]!, `environment variable ${name}`) : undefined;
  if (negated === undefined || !Object.hasOwn(env, negated) || env[negated] === '') return value;
  const inverse = !(parseText(key, env[negated]!, `environment variable ${negated}`) as boolean);
  if (value !== undefined && value !== inverse) throw new UsageError(`environment variables ${name} and ${negated} contradict each other: set one of them`);
  return inverse;
}

/**
 * Checks a config file's contents: an object whose own keys are settings a file may hold, with values of the
 * right type. Keys an object inherits (constructor, toString, __proto__) are unknown keys like any other.
 */
export function validateConfigFile(file: ConfigFile): Partial<Record<SettingKey, unknown>> {
  const { values, path } = file;
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new UsageError(`config file ${path}: expected an object of settings, got ${values === null ? 'null' : Array.isArray(values) ? 'a list' : typeof values}`);
  }
  const result: Partial<Record<SettingKey, unknown>> = Object.create(null) as Partial<Record<SettingKey, unknown>>;
  for (const [name, value] of Object.entries(values)) {
    if (name === '$schema' || name.startsWith('//')) continue;
    const shown = visibleText(name, 100);
    if (!Object.hasOwn(SETTINGS, name)) {
      throw new UsageError(`config file ${path}: unknown key "${shown}"`, { hint: `known keys: ${FILE_SETTING_KEYS.join(', ')}` });
    }
    const key = name as SettingKey;
    if (isEnvOnly(key)) {
      throw new UsageError(`config file ${path}: key "${key}" is read from the environment only (${envName(key)})`, { hint: 'a secret kept in a config file is too easily shared; the store URL may also name a file (?password_file=, ?token_file=)' });
    }
    result[key] = checkFileValue(key, value, `key "${key}" in config file ${path}`);
  }
  return result;
}

function checkFileValue(key: SettingKey, value: unknown, where: string): unknown {
  const def = SETTINGS[key];
  if (value === null && def.default === null) return null;
  switch (def.type) {
    case 'string':
      if (typeof value !== 'string' || value === '') throw new UsageError(`${where}: expected a non-empty string`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw new UsageError(`${where}: expected true or false`);
      return value;
    case 'integer':
      if (typeof value !== 'number') throw new UsageError(`${where}: expected a whole number from ${def.min} to ${def.max}`);
      return checkInteger(key, value, where);
    case 'enum':
      return checkEnum(key, value, where);
  }
}

function parseText(key: SettingKey, text: string, where: string): unknown {
  const def = SETTINGS[key];
  const got = `got "${visibleText(text, 200)}"`;
  switch (def.type) {
    case 'string':
      if (text === '') throw new UsageError(`${where}: expected a value`);
      return text;
    case 'boolean': {
      const lowered = text.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(lowered)) return true;
      if (['0', 'false', 'no', 'off'].includes(lowered)) return false;
      throw new UsageError(`${where}: expected true or false, ${got}`);
    }
    case 'integer':
      if (!/^\s*-?\d+\s*$/.test(text)) throw new UsageError(`${where}: expected a whole number from ${def.min} to ${def.max}, ${got}`);
      return checkInteger(key, Number(text), where);
    case 'enum':
      return checkEnum(key, text, where);
  }
}

function checkBoolean(key: SettingKey, value: boolean, where: string): boolean | string {
  if (SETTINGS[key].type === 'boolean') return value;
  throw new UsageError(`${where}: expected a value`);
}

function checkInteger(key: SettingKey, value: number, where: string): number {
  const def = SETTINGS[key];
  if (def.type !== 'integer') throw new Error(`not an integer setting: ${key}`);
  if (!Number.isInteger(value) || value < def.min || value > def.max) {
    throw new UsageError(`${where}: expected a whole number from ${def.min} to ${def.max}, got ${value}`);
  }
  return value;
}

function checkEnum(key: SettingKey, value: unknown, where: string): string {
  const def = SETTINGS[key];
  if (def.type !== 'enum') throw new Error(`not an enum setting: ${key}`);
  if (typeof value !== 'string' || !(def.values as readonly string[]).includes(value)) {
    const got = typeof value === 'string' ? `"${visibleText(value, 200)}"` : visibleText(JSON.stringify(value) ?? String(value), 200);
    throw new UsageError(`${where}: expected one of ${def.values.join(', ')}, got ${got}`);
  }
  return value;
}
