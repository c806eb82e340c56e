import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { certificateOf } from '../support/certificates.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

let pebble: PebbleHandle;
beforeAll(async () => {
  pebble = await startPebble({ config: { certificateValidityPeriod: 3600 } });
});
afterAll(async () => pebble?.stop());

const newHome = () => tempDir('hooks-e2e');
const issue = (home: string, name: string, extra: string[] = []) =>
  runCli(['issue', name, ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos', ...extra], { home });
const renew = (home: string, extra: string[] = []) => runCli(['renew', '--no-random-sleep', ...pebbleArgs(pebble), ...extra], { home });
const serialOf = (home: string, name: string) => certificateOf(join(home, 'live', name, 'cert.pem')).serialNumber.toUpperCase();

/** A hook script that appends one JSON line per run: which kind, and the environment acmectl gave it. */
function recordingHook(home: string): { command: (kind: string) => string; runs: () => Record<string, string>[] } {
  const log = join(home, 'hooks.jsonl');
  const script = join(home, 'record-hook.sh');
  writeFileSync(
    script,
    `#!/bin/sh\nnode -e 'const e=process.env; const keep=Object.fromEntries(Object.entries(e).filter(([k])=>k.startsWith("ACMECTL_")||k.startsWith("RENEWED_"))); require("fs").appendFileSync(process.argv[1], JSON.stringify({kind: process.argv[2], ...keep})+"\\n")' "${log}" "$1"\n`,
  );
  chmodSync(script, 0o755);
  return {
    command: (kind) => `${script} ${kind}`,
    runs: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>) : []),
  };
}

describe('hooks', () => {
  it('runs the shared pre and post hook once per run and the deploy hook once per renewed certificate, with their data in the environment', async () => {
    const home = newHome();
    const hook = recordingHook(home);
    const names = ['h1.example.test', 'h2.example.test', 'h3.example.test'];
    for (const name of names) {
      const issued = await issue(home, name, ['--pre-hook', hook.command('pre'), '--post-hook', hook.command('post'), '--deploy-hook', hook.command('deploy')]);
      expect(issued.code).toBe(0);
    }
    expect(hook.runs().map((r) => r.kind)).toEqual(['pre', 'deploy', 'post', 'pre', 'deploy', 'post', 'pre', 'deploy', 'post']);
    const afterIssue = hook.runs().length;

    const result = await renew(home, ['--force']);
    expect(result.code).toBe(0);
    const runs = hook.runs().slice(afterIssue);
    expect(runs.map((r) => r.kind).sort()).toEqual(['deploy', 'deploy', 'deploy', 'post', 'pre']);
    expect(runs[0]!.kind).toBe('pre');
    expect(runs[runs.length - 1]!.kind).toBe('post');
    const deploys = runs.filter((r) => r.kind === 'deploy');
    expect(deploys.map((r) => r.ACMECTL_CERT_NAME).sort()).toEqual(names);
    for (const run of deploys) {
      const name = run.ACMECTL_CERT_NAME!;
      const live = join(home, 'live', name);
      expect(run).toMatchObject({
        ACMECTL_DOMAINS: name,
        ACMECTL_CERT_PATH: join(live, 'cert.pem'),
        ACMECTL_CHAIN_PATH: join(live, 'chain.pem'),
        ACMECTL_FULLCHAIN_PATH: join(live, 'fullchain.pem'),
        ACMECTL_KEY_PATH: join(live, 'privkey.pem'),
        ACMECTL_SERIAL: serialOf(home, name),
        RENEWED_LINEAGE: live,
        RENEWED_DOMAINS: name,
      });
      expect(new Date(run.ACMECTL_NOT_AFTER!).getTime()).toBeGreaterThan(Date.now());
    }
    const post = runs.find((r) => r.kind === 'post')!;
    expect(post.ACMECTL_RENEWED!.split(' ').sort()).toEqual(names);
    expect(post.ACMECTL_FAILED).toBe('');

    // Nothing due, nothing attempted: no hook runs at all.
    const quiet = await renew(home);
    expect(quiet.code).toBe(0);
    expect(hook.runs().length).toBe(afterIssue + runs.length);
  });

  it('runs hooks without the secrets acmectl was given in the environment', async () => {
    const home = newHome();
    const hook = recordingHook(home);
    expect((await issue(home, 'secret-env.example.test')).code).toBe(0);
    const secrets = {
      ACMECTL_EAB_HMAC_KEY: 'eab-S3CRET',
      ACMECTL_STORE_PASSWORD: 'store-S3CRET',
      ACMECTL_STORE_TOKEN: 'token-S3CRET',
      ACMECTL_STORE_SECRET_ID: 'secret-id-S3CRET',
      ACMECTL_PKCS12_PASSWORD: 'p12-S3CRET',
    };
    const args = ['renew', '--no-random-sleep', '--force', ...pebbleArgs(pebble), '--pre-hook', hook.command('pre'), '--deploy-hook', hook.command('deploy'), '--post-hook', hook.command('post')];
    const result = await runCli(args, { home, env: { ...secrets, ACMECTL_HOOK_TIMEOUT: '60' } });
    expect(result.code).toBe(0);
    const runs = hook.runs();
    expect(runs.map((r) => r.kind)).toEqual(['pre', 'deploy', 'post']);
    for (const run of runs) {
      for (const name of Object.keys(secrets)) expect(run, `${run.kind} hook`).not.toHaveProperty(name);
      expect(JSON.stringify(run)).not.toMatch(/S3CRET/);
      expect(run.ACMECTL_HOOK_TIMEOUT).toBe('60'); // what is not a secret is passed on
    }
  });

  it('reports a failing deploy hook with its exit code and output, exits 1, and keeps the new certificate', async () => {
    const home = newHome();
    expect((await issue(home, 'fail-hook.example.test')).code).toBe(0);
    const before = serialOf(home, 'fail-hook.example.test');
    const result = await renew(home, ['--force', '--deploy-hook', 'echo "nginx: configuration test failed" >&2; exit 3']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/deploy hook .* failed with exit code 3/);
    expect(result.stderr).toContain('nginx: configuration test failed');
    expect(result.stdout).toMatch(/1 renewed, 0 not due, 0 failed, 1 hook\(s\) failed/);
    const after = serialOf(home, 'fail-hook.example.test');
    expect(after).not.toBe(before);
    const shown = JSON.parse((await runCli(['show', 'fail-hook.example.test', '--json'], { home })).stdout) as { serial: string };
    expect(shown.serial).toBe(after);
  });

  it('kills a hanging hook at --hook-timeout, reports it and keeps the certificate', async () => {
    const home = newHome();
    expect((await issue(home, 'hang-hook.example.test')).code).toBe(0);
    const before = serialOf(home, 'hang-hook.example.test');
    const result = await renew(home, ['--force', '--hook-timeout', '1', '--post-hook', 'echo waiting; sleep 60']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/post hook .* timed out after 1 s/);
    expect(result.stderr).toContain('waiting');
    expect(serialOf(home, 'hang-hook.example.test')).not.toBe(before);
  });
});

describe('two renew processes at once on one store', () => {
  it('renew each certificate exactly once', async () => {
    const home = newHome();
    const names = ['race1.example.test', 'race2.example.test', 'race3.example.test'];
    for (const name of names) expect((await issue(home, name)).code).toBe(0);
    // Both answer HTTP-01 on the same standalone port, so they must never order at the same time: one certificate
    // at a time each, in the same order, one process always waits for the lock the other holds (and then finds the
    // certificate renewed). With several at once, each could lock a different certificate first and both would
    // need the port (a race that depended on how fast the two processes start).
    const [a, b] = await Promise.all([renew(home, ['--force', '--concurrency', '1']), renew(home, ['--force', '--concurrency', '1'])]);
    expect(a.stderr + b.stderr).not.toMatch(/error/);
    expect([a.code, b.code]).toEqual([0, 0]);
    for (const name of names) {
      const shown = JSON.parse((await runCli(['show', name, '--json'], { home })).stdout) as { version: number; versions: { serial: string }[] };
      expect(shown.version).toBe(2);
      expect(new Set(shown.versions.map((v) => v.serial)).size).toBe(2);
    }
    const renewedBy = (output: string) => names.filter((name) => new RegExp(`^renewed ${name.replace(/\./g, '\\.')}`, 'm').test(output));
    expect([...renewedBy(a.stdout), ...renewedBy(b.stdout)].sort()).toEqual(names);
  });
});
