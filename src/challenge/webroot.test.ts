import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { WebrootSolver } from './webroot.js';

const challenge = { identifier: 'a.example.com', token: 'tok-1', keyAuthorization: 'tok-1.thumb' };

describe('WebrootSolver', () => {
  it('writes world-readable token files and removes them and its directories afterwards', async () => {
    const root = tempDir('webroot');
    const solver = new WebrootSolver(root);
    await solver.present(challenge);
    const file = join(root, '.well-known', 'acme-challenge', 'tok-1');
    expect(readFileSync(file, 'utf8')).toBe('tok-1.thumb');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(statSync(join(root, '.well-known')).mode & 0o777).toBe(0o755);
    expect(statSync(join(root, '.well-known', 'acme-challenge')).mode & 0o777).toBe(0o755);
    await solver.cleanUp(challenge);
    await solver.close();
    expect(existsSync(file)).toBe(false);
    expect(existsSync(join(root, '.well-known'))).toBe(false);
  });

  it('leaves directories it did not create, and files it did not write', async () => {
    const root = tempDir('webroot');
    mkdirSync(join(root, '.well-known'));
    writeFileSync(join(root, '.well-known', 'security.txt'), 'x');
    const solver = new WebrootSolver(root);
    await solver.present(challenge);
    await solver.cleanUp(challenge);
    await solver.close();
    expect(existsSync(join(root, '.well-known', 'security.txt'))).toBe(true);
    expect(existsSync(join(root, '.well-known', 'acme-challenge'))).toBe(false);
  });

  it('refuses a token that could become a path', async () => {
    const root = tempDir('webroot');
    const solver = new WebrootSolver(root);
    await expect(solver.present({ ...challenge, token: '../../etc/x' })).rejects.toThrow(/unsafe/);
    expect(existsSync(join(root, '.well-known'))).toBe(false);
  });

  it('says clearly when the webroot is not writable', async () => {
    const solver = new WebrootSolver('/proc/acmectl-not-here');
    await expect(solver.present(challenge)).rejects.toThrow(/could not create .*acmectl-not-here/);
  });
});
