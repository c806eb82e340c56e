import type { Command as Commander } from 'commander';
import { choiceEntries, subcommandPaths } from './completion-bash.js';
import { CERTIFICATE_NAMES_COMMAND, completionTree, optionsByValue, STORE_CHOOSING_OPTIONS, valuedOptions } from './completion-tree.js';

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
    '  local cmdpath="" word prev="${words[CURRENT-1]}" names=""',
    '  local -i i arguments=0',
    `  local -a global_options=(${tree.globalOptions.join(' ')}) candidates store_options`,
    '  for ((i = 2; i < CURRENT; i++)); do',
    '    word="${words[i]}"',
    '    case "$word" in',
    `      ${STORE_CHOOSING_OPTIONS.join('|')}) store_options+=("$word" "\${words[i+1]}"); ((i++)) ;;`,
    `      ${valuedOptions(tree).join('|')}) ((i++)) ;;`,
    '      -*) ;;',
    '      *)',
    '        case "${cmdpath:+$cmdpath }$word" in',
    `          ${subcommandPaths(tree)}) cmdpath="\${cmdpath:+$cmdpath }$word" ;;`,
    '          *) ((arguments += 1)) ;;',
    '        esac ;;',
    '    esac',
    '  done',
    '  case "$prev" in',
    ...(fileOptions.length ? [`    ${fileOptions.join('|')}) _files; return ;;`] : []),
    ...choiceEntries(tree).map(([option, values]) => `    ${option}) compadd -- ${values.join(' ')}; return ;;`),
    ...(freeOptions.length ? [`    ${freeOptions.join('|')}) return 1 ;;`] : []),
    '  esac',
    '  case "$cmdpath" in',
    ...[...tree.paths].map(([path, p]) => `    ${path === '' ? "''" : `'${path}'`}) candidates=(${[...p.subcommands, ...p.argumentChoices, ...p.options].join(' ')})${p.certificateNames ? `; names=${p.certificateNames}` : ''} ;;`),
    '    *) candidates=() ;;',
    '  esac',
    '  # the stored certificate names where one is expected, from the store chosen on the line (never an error)',
    '  if [[ $PREFIX != -* ]] && { [[ $names == many ]] || [[ $names == one && $arguments == 0 ]] }; then',
    `    candidates+=(\${(f)"$(\${words[1]} ${CERTIFICATE_NAMES_COMMAND} "\${store_options[@]}" </dev/null 2>/dev/null)"})`,
    '  fi',
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
