import { UsageError } from '../domain/errors.js';
import { SETTINGS, SETTING_KEYS, defaultSettings, envName } from './settings.js';
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
    const flag = input.flags?.[key];
    const env = input.env?.[envName(key)];
    if (flag !== undefined) {
      settings[key] = typeof flag === 'boolean' ? checkBoolean(key, flag, `--${SETTINGS[key].flag}`) : parseText(key, flag, `--${SETTINGS[key].flag}`);
      sources[key] = 'flag';
    } else if (env !== undefined && env !== '') {
      settings[key] = parseText(key, env, `environment variable ${envName(key)}`);
      sources[key] = 'env';
    } else if (key in fileValues) {
      settings[key] = fileValues[key];
      sources[key] = 'file';
    }
  }
  return { settings: settings as Settings, sources };
}

/** Checks a config file's contents: an object whose keys are known settings with values of the right type. */
export function validateConfigFile(file: ConfigFile): Partial<Record<SettingKey, unknown>> {
  const { values, path } = file;
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new UsageError(`config file ${path}: expected an object of settings`);
  }
  const result: Partial<Record<SettingKey, unknown>> = {};
  for (const [name, value] of Object.entries(values)) {
    if (name === '$schema' || name.startsWith('//')) continue;
    if (!(name in SETTINGS)) {
      throw new UsageError(`config file ${path}: unknown key "${name}"`, { hint: `known keys: ${SETTING_KEYS.join(', ')}` });
    }
    const key = name as SettingKey;
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
  switch (def.type) {
    case 'string':
      if (text === '') throw new UsageError(`${where}: expected a value`);
      return text;
    case 'boolean': {
      const lowered = text.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(lowered)) return true;
      if (['0', 'false', 'no', 'off'].includes(lowered)) return false;
      throw new UsageError(`${where}: expected true or false, got "${text}"`);
    }
    case 'integer':
      if (!/^\s*-?\d+\s*$/.test(text)) throw new UsageError(`${where}: expected a whole number from ${def.min} to ${def.max}, got "${text}"`);
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
    throw new UsageError(`${where}: expected one of ${def.values.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value;
}
