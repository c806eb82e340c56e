import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

let pebble: PebbleHandle;
let home: string;
beforeAll(async () => {
  pebble = await startPebble();
  home = tempDir('names');
});
afterAll(async () => pebble?.stop());

const issue = (names: string[], extra: string[] = []) =>
  runCli(['issue', ...names, ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos', ...extra], { home });
const stored = async (name: string) => JSON.parse((await runCli(['show', name, '--json'], { home })).stdout) as { domains: string[]; version: number };

// A request whose names differ from the stored certificate's never shrinks it silently (as certbot's --expand
// and --cert-name): fewer names is refused before anything is sent, more names is an expansion, said.
describe('acmectl issue with other names than the stored certificate', () => {
  it('refuses to drop a name (exit 2), says how to replace, expand or separate, and keeps the certificate', async () => {
    expect((await issue(['a.names.test', 'b.names.test'])).code).toBe(0);
    const before = await stored('a.names.test');

    const shrink = await issue(['a.names.test']);
    expect(shrink.code).toBe(2);
    expect(shrink.stderr).toContain('error: the certificate a.names.test covers a.names.test, b.names.test; this request would drop b.names.test');
    expect(shrink.stderr).toMatch(/hint: .*add --force.*acmectl issue a\.names\.test b\.names\.test.*--name/);
    expect(shrink.stderr).not.toMatch(/order created/);
    expect(await stored('a.names.test')).toEqual(before);
  });

  it('expands a certificate with added names and says so', async () => {
    const result = await issue(['a.names.test', 'b.names.test', 'c.names.test'], ['--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^expanding a\.names\.test with c\.names\.test: the new certificate covers a\.names\.test, b\.names\.test, c\.names\.test$/m);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'issued', expandedWith: ['c.names.test'] });
    expect((await stored('a.names.test')).domains).toEqual(['a.names.test', 'b.names.test', 'c.names.test']);
  });

  it('keeps a separate certificate with --name, and replaces the names with --force', async () => {
    const separate = await issue(['a.names.test'], ['--name', 'a-only']);
    expect(separate.code).toBe(0);
    expect((await stored('a-only')).domains).toEqual(['a.names.test']);
    expect((await stored('a.names.test')).domains).toEqual(['a.names.test', 'b.names.test', 'c.names.test']);

    const replaced = await issue(['a.names.test'], ['--force']);
    expect(replaced.code).toBe(0);
    expect((await stored('a.names.test')).domains).toEqual(['a.names.test']);
  });
});
