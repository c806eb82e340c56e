import type { Command as CommandTree } from 'commander';
import type { Command } from '../command.js';
import { COMPLETION_FILES } from '../completion-files.js';
import type { CompletionShell } from '../completion-shells.js';

/** Prints the completion script of the program's command tree for the shell named by the argument. */
export const completionOf = (program: CommandTree): Command => async ({ args, reporter }) => {
  const shell = args[0]!;
  const script = COMPLETION_FILES[shell as CompletionShell].render(program);
  reporter.result({ ok: true, shell, script }, () => [script.trimEnd()], { always: true });
  return 0;
};
