import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/acmectl.js', import.meta.url));

export interface ServeProcess {
  /** Everything it printed to stderr so far (one line per request). */
  log(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs the built `acmectl serve` as a fleet node would, and waits until it listens. TMPDIR passes through, as in
 * runCli(), to keep its temp files inside the test run's guarded temp directory.
 */
export async function startServe(args: string[], env: Record<string, string>): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', ...args], {
    env: { PATH: process.env.PATH, TMPDIR: process.env.TMPDIR, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const deadline = Date.now() + 15_000;
  while (!output.includes('answering HTTP-01 challenges')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`acmectl serve did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    log: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      process.off('exit', killOnExit);
      return code;
    },
  };
}
