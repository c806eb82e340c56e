import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';

// README's first command for a new user is `npm install && npm run demo`; this is the `npm run demo` part.
describe('npm run demo', () => {
  it('starts a local Pebble and issues a certificate for demo.example.test', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, ['scripts/demo.js'], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 }, (error, out, err) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out + err }),
      );
    });
    expect(stdout).toMatch(/certificate demo\.example\.test issued: serial [0-9A-F]+/);
    expect(stdout).toMatch(/name:\s+demo\.example\.test/);
    expect(code).toBe(0);
    expect(statSync(join(REPO_ROOT, '.demo', 'home', 'live', 'demo.example.test', 'fullchain.pem')).size).toBeGreaterThan(0);
  });
});
