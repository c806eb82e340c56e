import type { Command as Commander } from 'commander';

/**
 * The subcommands a user is shown (help, completions, man page, docs): commander's visible ones, without the
 * implicit `help` command. Hidden commands (`__certificate-names`, which only the completion scripts call) are
 * left out.
 */
export function visibleSubcommands(command: Commander): Commander[] {
  return command.createHelp().visibleCommands(command).filter((sub) => sub.name() !== 'help');
}
