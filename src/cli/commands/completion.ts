import { renderBashCompletion } from '../completion-bash.js';
import type { Command as CommandTree } from 'commander';
import type { Command } from '../command.js';

/** Prints the completion script of the program's command tree; the same text ships as completions/acmectl.bash. */
export const completionOf = (program: CommandTree): Command => async ({ args, reporter }) => {
  const shell = args[0]!;
  const script = renderBashCompletion(program);
  reporter.result({ ok: true, shell, script }, () => [script.trimEnd()], { always: true });
  return 0;
};
