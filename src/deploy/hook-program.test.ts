import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { locateHookProgram } from './hook-program.js';

describe('locateHookProgram', () => {
  let bin = '';
  beforeAll(() => {
    bin = tempDir('hook-bin');
    writeFileSync(join(bin, 'reload-web'), '#!/bin/sh\n');
    chmodSync(join(bin, 'reload-web'), 0o755);
    writeFileSync(join(bin, 'plain-file'), 'x');
    chmodSync(join(bin, 'plain-file'), 0o644);
  });
  /** BIN in a table row stands for the test's bin directory. */
  const inBin = <T,>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll('BIN', bin)) as T;

  it.each([
    ['reload-web --now', { status: 'found', program: 'reload-web', path: 'BIN/reload-web' }],
    ['SERVICE=nginx LANG=C reload-web', { status: 'found', program: 'reload-web', path: 'BIN/reload-web' }],
    ["'BIN/reload-web' x", { status: 'found', program: 'BIN/reload-web', path: 'BIN/reload-web' }],
    ['echo "$ACMECTL_CERT_NAME" >> /var/log/renewed', { status: 'builtin', program: 'echo' }],
    ['(cd /srv && make)', { status: 'builtin', program: '(cd' }],
    ['no-such-tool reload', { status: 'missing', program: 'no-such-tool' }],
    ['plain-file', { status: 'not-executable', program: 'plain-file', path: 'BIN/plain-file' }],
    ['$RELOAD', { status: 'unknown', program: '$RELOAD' }],
  ])('%s', async (command, expected) => {
    expect(await locateHookProgram(inBin(command), { PATH: `/nonexistent:${bin}` }, bin)).toEqual(inBin(expected));
  });

  it('finds a relative path from the directory hooks run in', async () => {
    expect(await locateHookProgram('./reload-web', { PATH: '' }, bin)).toEqual({ status: 'found', program: './reload-web', path: join(bin, 'reload-web') });
  });
});
