/**
 * Every command that takes a certificate's name answers an unknown name the same way (exit 2, with the hint to
 * `acmectl list`), whether no store exists yet or the store holds no such name; a missing store is not created.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { UsageError } from '../domain/errors.js';
import type { Command } from './command.js';
import { deleteCommand } from './commands/delete.js';
import { exportCommand } from './commands/export.js';
import { renew } from './commands/renew.js';
import { revoke } from './commands/revoke.js';
import { show } from './commands/show.js';
import type { GlobalOptions } from './context.js';
import { Reporter } from './reporter.js';

const scratch = tempDir('unknown-certificate');
let configPath: string;
beforeAll(() => {
  configPath = join(scratch, 'acmectl.config.json');
  writeFileSync(configPath, '{}');
});

const COMMANDS: [string, Command<never>][] = [
  ['show', show],
  ['export', exportCommand],
  ['revoke', revoke],
  ['delete', deleteCommand],
  ['renew', renew],
];

async function failureOf(command: Command<never>, global: GlobalOptions): Promise<unknown> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream;
  const reporter = await Reporter.create({ json: true, stdout: sink, stderr: sink, env: {} });
  const input = { args: ['nothing.example'], options: {} as never, global: { config: configPath, ...global }, reporter, signal: new AbortController().signal };
  return command(input).then(
    () => new Error('expected the command to fail'),
    (error: unknown) => error,
  );
}

function expectUnknownName(error: unknown): void {
  expect(error).toBeInstanceOf(UsageError);
  expect((error as UsageError).message).toBe('there is no certificate named "nothing.example"');
  expect((error as UsageError).hint).toBe('acmectl list shows the names');
}

describe('an unknown certificate name', () => {
  it.each(COMMANDS)('%s: when no store exists yet, without creating one', async (_name, command) => {
    const path = join(scratch, `${_name}-none.db`);
    expectUnknownName(await failureOf(command, { store: `sqlite:${path}` }));
    expect(existsSync(path)).toBe(false);
  });

  it.each(COMMANDS)('%s: when the store does not hold the name', async (_name, command) => {
    expectUnknownName(await failureOf(command, { store: 'memory:' }));
  });
});
