// The JSON Schemas of `acmectl --json` (docs/json/), loaded into a real validator (Ajv, draft 2020-12).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export const SCHEMA_DIR = fileURLToPath(new URL('../../docs/json/', import.meta.url));
/** Every schema's $id is this followed by `<file name without .schema.json>.json`; the 1 is the major version. */
export const SCHEMA_ID_BASE = 'https://acmectl.invalid/schema/1/';
/** Schema files that describe no command: the shared definitions and the error document every command may print. */
export const SHARED_SCHEMAS = ['common', 'error'] as const;

export interface SchemaFile {
  /** `list`, `account-register`: the file name without `.schema.json`. */
  name: string;
  file: string;
  schema: Record<string, unknown>;
}

export function schemaFiles(): SchemaFile[] {
  return readdirSync(SCHEMA_DIR)
    .filter((file) => file.endsWith('.schema.json'))
    .sort()
    .map((file) => ({ name: file.slice(0, -'.schema.json'.length), file, schema: JSON.parse(readFileSync(`${SCHEMA_DIR}${file}`, 'utf8')) as Record<string, unknown> }));
}

/** The schema file name for a command path: `account register` → `account-register`. */
export const schemaNameOf = (commandPath: string): string => commandPath.split(' ').join('-');

/**
 * A strict validator holding every schema file, so that their references to each other (`common.json#/$defs/...`,
 * `error.json`) resolve as they would for a script that loads the folder. Strict mode makes a misspelt keyword or
 * a reference that leads nowhere an error rather than a silently ignored part of the schema.
 */
export function schemaValidator(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, strictRequired: false, allErrors: true });
  // ajv-formats is CommonJS whose module.exports is the plugin with the plugin again as `.default`; TypeScript
  // (NodeNext) types the default import as the module object, so `.default` is the callable either way.
  addFormats.default(ajv);
  for (const { schema } of schemaFiles()) ajv.addSchema(schema);
  return ajv;
}

/** The compiled schema of a command's document (`list`, `account register`). */
export function documentSchema(ajv: Ajv2020, commandPath: string): ValidateFunction {
  const validate = ajv.getSchema(`${SCHEMA_ID_BASE}${schemaNameOf(commandPath)}.json`);
  if (!validate) throw new Error(`no schema ${SCHEMA_ID_BASE}${schemaNameOf(commandPath)}.json in docs/json/`);
  return validate;
}

/** Ajv's errors as readable lines, for assertion messages. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('\n');
}
