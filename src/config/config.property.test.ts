// Property-based tests of the config parser (fast-check): any file contents and any environment either give
// settings of the types the table promises, or a UsageError (exit 2); never another error, never a key that
// is not in the table.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../domain/errors.js';
import { resolveSettings, validateConfigFile } from './resolve.js';
import { FILE_SETTING_KEYS, SETTINGS, SETTING_KEYS, envName } from './settings.js';
import type { SettingKey } from './settings.js';

const INHERITED = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];
const keyName = fc.oneof(fc.constantFrom(...SETTING_KEYS, ...INHERITED, '$schema', '// note'), fc.string({ maxLength: 12 }));
const fileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, true, false, 0, 1, 80, -1, 65536, 1.5, '', 'ec256', 'standalone', 'letsencrypt'),
);
/** What a JSON or YAML file can hold, `__proto__` included as an own key (as JSON.parse makes it). */
const fileContents = fc.oneof(
  fc.dictionary(keyName, fileValue, { maxKeys: 6 }).map((entries) => JSON.parse(JSON.stringify(entries)) as unknown),
  fc.jsonValue({ maxDepth: 2 }),
);
const envValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom('0', '1', 'true', 'no', '30', '-1', '99999', 'ec384', ''));
const environment = fc.dictionary(fc.constantFrom(...SETTING_KEYS.map(envName), 'ACMECTL_NO_RANDOM_SLEEP', 'ACMECTL_UNKNOWN'), envValue, { maxKeys: 5 });

function expectTableTypes(settings: Record<SettingKey, unknown>): void {
  for (const key of SETTING_KEYS) {
    const def = SETTINGS[key];
    const value = settings[key];
    if (value === null && def.default === null) continue;
    if (def.type === 'string') expect(typeof value === 'string' && value !== '', key).toBe(true);
    if (def.type === 'boolean') expect(typeof value, key).toBe('boolean');
    if (def.type === 'integer') expect(Number.isInteger(value) && (value as number) >= def.min && (value as number) <= def.max, key).toBe(true);
    if (def.type === 'enum') expect(def.values as readonly unknown[], key).toContain(value);
  }
}

function attempt<T>(run: () => T): { ok: true; value: T } | { ok: false } {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return { ok: false };
  }
}

describe('config parser (properties)', () => {
  it('accepts only own keys of the table a file may hold, with values of their type; refuses the rest with a UsageError', () => {
    fc.assert(
      fc.property(fileContents, (values) => {
        const result = attempt(() => validateConfigFile({ path: '/x.json', values }));
        if (!result.ok) return;
        for (const key of Object.keys(result.value)) expect(FILE_SETTING_KEYS as string[]).toContain(key);
        expect(Object.getPrototypeOf(result.value)).toBeNull();
        // What was accepted passes again, unchanged.
        expect(validateConfigFile({ path: '/x.json', values: { ...result.value } })).toEqual(result.value);
        expectTableTypes(resolveSettings({ file: { path: '/x.json', values } }).settings as Record<SettingKey, unknown>);
      }),
      { numRuns: 1000 },
    );
  });

  it('gives settings of the table types from any environment, or a UsageError naming a variable', () => {
    fc.assert(
      fc.property(environment, (env) => {
        let message = '';
        const result = attempt(() => {
          try {
            return resolveSettings({ env });
          } catch (error) {
            message = (error as Error).message;
            throw error;
          }
        });
        if (!result.ok) {
          expect(message).toMatch(/environment variables? ACMECTL_[A-Z_]+/);
          expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
          return;
        }
        expectTableTypes(result.value.settings as Record<SettingKey, unknown>);
      }),
      { numRuns: 1000 },
    );
  });
});
