import { abortedError } from '../domain/errors.js';

/** Whether a person can be asked: standard input is a terminal. */
export function canAsk(stdin: NodeJS.ReadStream = process.stdin): boolean {
  return stdin.isTTY === true;
}

/**
 * Asks a yes/no question on the terminal (the question on stderr, the answer from stdin); true only for
 * "y" or "yes". Ctrl-C while asking interrupts the command like anywhere else (exit 130), and so does any
 * signal that aborts `signal`.
 */
export async function askYesNo(question: string, signal: AbortSignal): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // In raw mode Ctrl-C reaches readline as a keypress, not as a signal: pass it on to the command's handling.
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal });
    return /^\s*y(es)?\s*$/i.test(answer);
  } catch (error) {
    if (signal.aborted) throw abortedError(signal, 'while asking for confirmation');
    throw error;
  } finally {
    rl.close();
  }
}
