import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/acmectl.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the BUILT command line (bin/acmectl.js → dist/), as a user would, with a clean environment:
 * no ACMECTL_* variables leak in from the developer's shell, and no terminal (plain output). TMPDIR passes
 * through, so that whatever the CLI and its hooks put in the temp directory stays in the test run's own, which
 * test/support/temp-guard.ts checks is empty at the end.
 */
export function runCli(args: string[], options: { home: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number }): Promise<CliResult> {
  const env = cliEnv(options);
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, cwd: options.cwd ?? options.home, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The clean environment runCli gives the CLI (for tests that spawn it themselves). */
export function cliEnv(options: { home: string; env?: Record<string, string> }): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, TMPDIR: process.env.TMPDIR, HOME: options.home, ACMECTL_HOME: options.home, NO_COLOR: '1', ...options.env };
}

/** The global options that point acmectl at a test Pebble. */
export function pebbleArgs(pebble: { directoryUrl: string; caBundlePath: string }): string[] {
  return ['--server', pebble.directoryUrl, '--ca-bundle', pebble.caBundlePath];
}
