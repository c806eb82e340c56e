/**
 * The JSON Schemas of `--json` (docs/json/, docs/json.md) are valid schemas, and the command tree and the schema
 * folder match: a command added without a schema for its document fails here, and so does a schema left behind
 * by a command that is gone. Each command's output is validated against them in test/e2e/json-schemas.test.ts.
 */
import { readFileSync } from 'node:fs';
import type { Command as Commander } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { visibleSubcommands } from '../../src/cli/visible-commands.js';
import { describeErrors, documentSchema, SCHEMA_ID_BASE, schemaFiles, schemaNameOf, schemaValidator, SHARED_SCHEMAS } from '../support/json-schemas.js';

const program = buildProgram(async () => {});

/** The commands that run (leaves of the tree), as typed: `list`, `account register`. */
function leafCommands(command: Commander, path: string[] = []): string[] {
  return visibleSubcommands(command).flatMap((c) => (c.commands.length === 0 ? [[...path, c.name()].join(' ')] : leafCommands(c, [...path, c.name()])));
}

const files = schemaFiles();
const commands = leafCommands(program);
const commandSchemas = files.filter((f) => !(SHARED_SCHEMAS as readonly string[]).includes(f.name));

describe('docs/json/*.schema.json', () => {
  it.each(files.map((f) => [f.file, f] as const))('%s is a draft 2020-12 schema with its versioned $id', (_file, { name, schema }) => {
    const ajv = schemaValidator();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(`${SCHEMA_ID_BASE}${name}.json`);
    expect(ajv.validateSchema(schema), describeErrors(ajv.errors)).toBe(true);
  });

  it('compile together, every reference resolving (strict mode)', () => {
    const ajv = schemaValidator();
    const failures = files.flatMap(({ name }) => {
      try {
        ajv.getSchema(`${SCHEMA_ID_BASE}${name}.json`);
        return [];
      } catch (error) {
        return [`${name}: ${(error as Error).message}`];
      }
    });
    expect(failures).toEqual([]);
  });

  it('have one per command of the program tree, and none for a command that does not exist', () => {
    expect(commands.length).toBeGreaterThan(15);
    expect(commandSchemas.map((f) => f.name).sort()).toEqual(commands.map(schemaNameOf).sort());
  });

  it.each(commands)('the schema of "%s" admits the shared error document and nothing loose', (command) => {
    const validate = documentSchema(schemaValidator(), command);
    expect(validate({ ok: false, error: { message: 'something failed', exitCode: 1, hint: 'do this' } }), describeErrors(validate.errors)).toBe(true);
    expect(validate({ ok: false, error: { message: 'bad input', exitCode: 2 } })).toBe(true);
    // An error document is exactly that: no other exit code, no field the schema does not name.
    expect(validate({ ok: false, error: { message: 'x', exitCode: 3 } })).toBe(false);
    expect(validate({ ok: false, error: { message: 'x', exitCode: 1 }, extra: true })).toBe(false);
    expect(validate({ ok: true })).toBe(false);
  });
});

describe('docs/json.md', () => {
  const doc = readFileSync(new URL('../../docs/json.md', import.meta.url), 'utf8');
  it.each(commands)('links the schema of "%s" in its table', (command) => {
    expect(doc).toContain(`| \`${command}\` | [\`${schemaNameOf(command)}.schema.json\`](json/${schemaNameOf(command)}.schema.json) |`);
  });
  it('links the error schema', () => {
    expect(doc).toContain('](json/error.schema.json)');
  });
});
