import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs systemctl with these arguments; resolves to its stdout, rejects with its stderr in the message. */
export async function systemctl(args: string[]): Promise<string> {
  try {
    return (await run('systemctl', args, { timeout: 30_000 })).stdout;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`systemctl ${args.join(' ')} failed: ${(stderr ?? '').trim() || message}`);
  }
}
