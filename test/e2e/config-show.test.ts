import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

describe('acmectl config show / check', () => {
  it('shows the effective settings with their sources, and never a secret', async () => {
    const home = tempDir('config');
    writeFileSync(join(home, 'acmectl.config.json'), JSON.stringify({ httpPort: 8080, eabKid: 'kid-1' }));
    const env = { ACMECTL_EAB_HMAC_KEY: 'hmac-S3CRET-value', ACMECTL_KEY_TYPE: 'ec384' };
    const args = ['config', 'show', '--store', 'redis://admin:pw-S3CRET@redis.internal:6379/0?prefix=a/'];
    const text = await runCli(args, { home, env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^httpPort\s+8080\s+file\s+ACMECTL_HTTP_PORT$/m);
    expect(text.stdout).toMatch(/^keyType\s+ec384\s+env\s+ACMECTL_KEY_TYPE$/m);
    expect(text.stdout).toMatch(/^eabHmacKey\s+\*\*\*\s+env/m);
    expect(text.stdout).toContain('redis://admin:***@redis.internal:6379/0?prefix=a/');
    const json = await runCli([...args, '--json'], { home, env });
    const document = JSON.parse(json.stdout) as { settings: Record<string, { value: unknown; source: string }>; configFile: string };
    expect(document.configFile).toBe(join(home, 'acmectl.config.json'));
    expect(document.settings.eabHmacKey).toEqual({ value: '***', source: 'env' });
    for (const output of [text.stdout + text.stderr, json.stdout + json.stderr]) expect(output).not.toMatch(/S3CRET/);
  });

  it('config check passes a good configuration and names the key and file of a bad one (exit 2)', async () => {
    const home = tempDir('config');
    expect((await runCli(['config', 'check'], { home })).code).toBe(0);
    writeFileSync(join(home, 'acmectl.config.json'), JSON.stringify({ concurrency: 0 }));
    const bad = await runCli(['config', 'check'], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`key "concurrency" in config file ${join(home, 'acmectl.config.json')}: expected a whole number from 1 to 64`);
  });
});
