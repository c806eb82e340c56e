import type { Command as Commander, Option } from 'commander';

/**
 * Renders the bash completion script from the command tree, so it cannot drift from the real commands.
 * completions/acmectl.bash is this output, committed for packagers; a test keeps the two identical.
 */
export function renderBashCompletion(program: Commander): string {
  const globalOptions = longOptions(program.options);
  const valued = new Set<string>();
  const choices = new Map<string, string[]>();
  const paths = new Map<string, string[]>(); // command path -> words it completes
  const visit = (command: Commander, path: string): void => {
    for (const option of command.options) {
      if (!option.long) continue;
      if (option.required || option.optional) valued.add(option.long);
      if (option.argChoices) choices.set(option.long, option.argChoices);
    }
    const subcommands = command.commands.filter((c) => c.name() !== 'help');
    const argChoices = command.registeredArguments.flatMap((a) => a.argChoices ?? []);
    paths.set(path, [...subcommands.flatMap((c) => [c.name(), ...c.aliases()]), ...argChoices, ...longOptions(command.options)]);
    for (const sub of subcommands) {
      for (const name of [sub.name(), ...sub.aliases()]) visit(sub, path ? `${path} ${name}` : name);
    }
  };
  visit(program, '');
  const fileOptions = ['--config', '--ca-bundle', '--webroot', '--out'].filter((o) => valued.has(o));
  const lines = [
    '# bash completion for acmectl. Generated from the command tree; install it as',
    '# /usr/share/bash-completion/completions/acmectl or source it: eval "$(acmectl completion bash)"',
    '_acmectl() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path="" i word',
    `  local global_options="${globalOptions.join(' ')}"`,
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    word="${COMP_WORDS[i]}"',
    '    case "$word" in',
    `      ${[...valued].sort().join('|')}) ((i++)) ;;`,
    '      -*) ;;',
    '      *) path="${path:+$path }$word" ;;',
    '    esac',
    '  done',
    '  case "$prev" in',
    ...(fileOptions.length ? [`    ${fileOptions.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`] : []),
    ...[...choices].sort().map(([option, values]) => `    ${option}) COMPREPLY=($(compgen -W "${values.join(' ')}" -- "$cur")); return ;;`),
    `    ${[...valued].filter((o) => !choices.has(o) && !fileOptions.includes(o)).sort().join('|')}) return ;;`,
    '  esac',
    '  local words',
    '  case "$path" in',
    ...[...paths].map(([path, words]) => `    ${path === '' ? "''" : `'${path}'`}) words="${words.join(' ')}" ;;`),
    '    *) words="" ;;',
    '  esac',
    '  COMPREPLY=($(compgen -W "$words $global_options" -- "$cur"))',
    '}',
    'complete -F _acmectl acmectl',
  ];
  return `${lines.join('\n')}\n`;
}

function longOptions(options: readonly Option[]): string[] {
  return options.flatMap((o) => (o.long ? [o.long] : []));
}
