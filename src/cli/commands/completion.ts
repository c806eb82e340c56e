import { renderBashCompletion } from '../completion-bash.js';
import type { Command } from '../command.js';
import { buildProgram } from '../program.js';

/** Prints the completion script; the same text ships as completions/acmectl.bash. */
export const completion: Command = async ({ args, reporter }) => {
  const shell = args[0]!;
  const script = renderBashCompletion(buildProgram(async () => {}));
  reporter.result({ ok: true, shell, script }, () => [script.trimEnd()], { always: true });
  return 0;
};
