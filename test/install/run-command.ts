import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the command (and everything it started) after this long; the result then has code null. */
  timeoutMs: number;
}

const running = new Set<ChildProcess>();

/**
 * Runs a command in its own process group, so that a timeout (or killRunningCommands) also ends what it
 * started: `npm install` runs node-gyp, make and g++, which a plain kill of npm would leave behind.
 */
export function runCommand(file: string, args: readonly string[], options: RunOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => killGroup(child), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Ends every command still running (for afterAll, when a hook timed out while a command ran). */
export function killRunningCommands(): void {
  for (const child of running) killGroup(child);
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/** A failed command's message, with the end of its output (npm's build logs are long). */
export function describeFailure(what: string, result: CommandResult): string {
  const tail = (text: string): string => text.split('\n').slice(-40).join('\n');
  return `${what} ${result.code === null ? 'was killed (timeout)' : `exited with ${result.code}`}\n--- stdout\n${tail(result.stdout)}\n--- stderr\n${tail(result.stderr)}`;
}
