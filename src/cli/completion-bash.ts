import type { Command as Commander } from 'commander';
import { CERTIFICATE_NAMES_COMMAND, completionTree, optionsByValue, STORE_CHOOSING_OPTIONS, valuedOptions } from './completion-tree.js';

/**
 * Renders the bash completion script from the command tree, so it cannot drift from the real commands.
 * completions/acmectl.bash is this output, committed for packagers; a test keeps the two identical.
 */
export function renderBashCompletion(program: Commander): string {
  const tree = completionTree(program);
  const valued = valuedOptions(tree);
  const fileOptions = optionsByValue(tree, 'file');
  const freeOptions = optionsByValue(tree, 'free');
  const lines = [
    '# bash completion for acmectl. Generated from the command tree; install it as',
    '# /usr/share/bash-completion/completions/acmectl or source it: eval "$(acmectl completion bash)"',
    '_acmectl() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path="" i word arguments=0 names=""',
    `  local global_options="${tree.globalOptions.join(' ')}"`,
    '  local -a store_options=()',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    word="${COMP_WORDS[i]}"',
    '    case "$word" in',
    `      ${STORE_CHOOSING_OPTIONS.join('|')}) store_options+=("$word" "\${COMP_WORDS[i+1]}"); ((i++)) ;;`,
    `      ${valued.join('|')}) ((i++)) ;;`,
    '      -*) ;;',
    '      *)',
    '        # a word extends the command path only when it names a subcommand; else it is an argument',
    '        case "${path:+$path }$word" in',
    `          ${subcommandPaths(tree)}) path="\${path:+$path }$word" ;;`,
    '          *) arguments=$((arguments + 1)) ;;',
    '        esac ;;',
    '    esac',
    '  done',
    '  case "$prev" in',
    ...(fileOptions.length ? [`    ${fileOptions.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`] : []),
    ...choiceEntries(tree).map(([option, values]) => `    ${option}) COMPREPLY=($(compgen -W "${values.join(' ')}" -- "$cur")); return ;;`),
    ...(freeOptions.length ? [`    ${freeOptions.join('|')}) return ;;`] : []),
    '  esac',
    '  local words',
    '  case "$path" in',
    ...[...tree.paths].map(([path, p]) => `    ${path === '' ? "''" : `'${path}'`}) words="${[...p.subcommands, ...p.argumentChoices, ...p.options].join(' ')}"${p.certificateNames ? `; names=${p.certificateNames}` : ''} ;;`),
    '    *) words="" ;;',
    '  esac',
    '  # the stored certificate names where one is expected, from the store chosen on the line (never an error)',
    '  if [[ $cur != -* ]] && { [[ $names == many ]] || [[ $names == one && $arguments == 0 ]]; }; then',
    `    words+=" $("\${COMP_WORDS[0]}" ${CERTIFICATE_NAMES_COMMAND} "\${store_options[@]}" </dev/null 2>/dev/null)"`,
    '  fi',
    '  COMPREPLY=($(compgen -W "$words $global_options" -- "$cur"))',
    '}',
    'complete -F _acmectl acmectl',
  ];
  return `${lines.join('\n')}\n`;
}

/** Every command path but the top, quoted for a shell `case` pattern: 'issue'|'account register'|... */
export function subcommandPaths(tree: ReturnType<typeof completionTree>): string {
  return [...tree.paths.keys()].filter((p) => p !== '').map((p) => `'${p}'`).join('|');
}

/** [option, values] of the options with fixed values, sorted by option. */
export function choiceEntries(tree: ReturnType<typeof completionTree>): [string, string[]][] {
  return [...tree.values].flatMap(([option, v]) => (v.kind === 'choice' ? [[option, v.values] as [string, string[]]] : [])).sort(([a], [b]) => a.localeCompare(b));
}
