import type { Command as Commander } from 'commander';
import { choiceEntries, subcommandPaths } from './completion-bash.js';
import { completionTree, optionsByValue, valuedOptions } from './completion-tree.js';

/**
 * Renders the zsh completion function from the command tree (completions/_acmectl). It works both from a
 * directory in $fpath (autoloaded through its #compdef line) and sourced: `source <(acmectl completion zsh)`.
 */
export function renderZshCompletion(program: Commander): string {
  const tree = completionTree(program);
  const fileOptions = optionsByValue(tree, 'file');
  const freeOptions = optionsByValue(tree, 'free');
  // `path` and `words` are special in zsh (the PATH array, the completion's words): hence `cmdpath`.
  const lines = [
    '#compdef acmectl',
    '# zsh completion for acmectl. Generated from the command tree; put it in a directory of $fpath as _acmectl,',
    '# or load it in ~/.zshrc after compinit: source <(acmectl completion zsh)',
    '_acmectl() {',
    '  local cmdpath="" word prev="${words[CURRENT-1]}"',
    '  local -i i',
    `  local -a global_options=(${tree.globalOptions.join(' ')}) candidates`,
    '  for ((i = 2; i < CURRENT; i++)); do',
    '    word="${words[i]}"',
    '    case "$word" in',
    `      ${valuedOptions(tree).join('|')}) ((i++)) ;;`,
    '      -*) ;;',
    '      *)',
    '        case "${cmdpath:+$cmdpath }$word" in',
    `          ${subcommandPaths(tree)}) cmdpath="\${cmdpath:+$cmdpath }$word" ;;`,
    '        esac ;;',
    '    esac',
    '  done',
    '  case "$prev" in',
    ...(fileOptions.length ? [`    ${fileOptions.join('|')}) _files; return ;;`] : []),
    ...choiceEntries(tree).map(([option, values]) => `    ${option}) compadd -- ${values.join(' ')}; return ;;`),
    ...(freeOptions.length ? [`    ${freeOptions.join('|')}) return 1 ;;`] : []),
    '  esac',
    '  case "$cmdpath" in',
    ...[...tree.paths].map(([path, p]) => `    ${path === '' ? "''" : `'${path}'`}) candidates=(${[...p.subcommands, ...p.argumentChoices, ...p.options].join(' ')}) ;;`),
    '    *) candidates=() ;;',
    '  esac',
    '  compadd -- "${candidates[@]}" "${global_options[@]}"',
    '}',
    'if [[ "${funcstack[1]}" == _acmectl ]]; then',
    '  _acmectl "$@"',
    'else',
    '  compdef _acmectl acmectl',
    'fi',
  ];
  return `${lines.join('\n')}\n`;
}
