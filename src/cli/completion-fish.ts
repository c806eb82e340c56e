import type { Command as Commander } from 'commander';
import { CERTIFICATE_NAMES_COMMAND, completionTree, STORE_CHOOSING_OPTIONS, valuedOptions } from './completion-tree.js';

/**
 * Renders the fish completions from the command tree (completions/acmectl.fish). fish loads it from
 * ~/.config/fish/completions/ or /usr/share/fish/vendor_completions.d/, or: acmectl completion fish | source
 */
export function renderFishCompletion(program: Commander): string {
  const tree = completionTree(program);
  const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const optionLine = (condition: string | null, long: string): string => {
    const value = tree.values.get(long);
    const flags = value === undefined ? '' : value.kind === 'file' ? ' -r -F' : value.kind === 'choice' ? ` -x -a ${quote(value.values.join(' '))}` : ' -x';
    return `complete -c acmectl${condition === null ? '' : ` -n ${quote(`__acmectl_at ${quote(condition)}`)}`} -l ${long.slice(2)}${flags}`;
  };
  const lines = [
    '# fish completion for acmectl. Generated from the command tree; install it as',
    '# ~/.config/fish/completions/acmectl.fish, or load it: acmectl completion fish | source',
    '',
    '# What was typed so far, skipping options and their values: the subcommand path ("account register") on the',
    '# first line, the number of arguments on the second, then the options that choose the store, with their values.',
    'function __acmectl_walk',
    '    set -l tokens (commandline -opc)',
    '    set -l words',
    '    set -l arguments 0',
    '    set -l store_options',
    '    set -l skip 0',
    `    set -l paths ${[...tree.paths.keys()].filter((p) => p !== '').map(quote).join(' ')}`,
    '    for token in $tokens[2..-1]',
    '        if test $skip = store',
    '            set -a store_options $token',
    '            set skip 0',
    '            continue',
    '        else if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch $token',
    `            case ${STORE_CHOOSING_OPTIONS.join(' ')}`,
    '                set -a store_options $token',
    '                set skip store',
    `            case ${valuedOptions(tree).join(' ')}`,
    '                set skip 1',
    "            case '-*'",
    "            case '*'",
    '                # a word extends the command path only when it names a subcommand; else it is an argument',
    '                set -l extended (string join " " -- $words $token)',
    '                if contains -- $extended $paths',
    '                    set -a words $token',
    '                else',
    '                    set arguments (math $arguments + 1)',
    '                end',
    '        end',
    '    end',
    '    echo (string join " " -- $words)',
    '    echo $arguments',
    '    string join \\n -- $store_options',
    'end',
    '',
    'function __acmectl_at',
    '    set -l walk (__acmectl_walk)',
    '    test "$walk[1]" = "$argv[1]"',
    'end',
    '',
    '# The stored certificate names ($argv[1]: one or many expected), from the store chosen on the line; never an error.',
    'function __acmectl_names',
    '    set -l walk (__acmectl_walk)',
    '    if test "$argv[1]" = one; and test "$walk[2]" != 0',
    '        return',
    '    end',
    '    set -l command (commandline -opc)[1]',
    `    $command ${CERTIFICATE_NAMES_COMMAND} $walk[3..-1] </dev/null 2>/dev/null`,
    'end',
    '',
    'complete -c acmectl -f',
    ...tree.globalOptions.map((long) => optionLine(null, long)),
    ...[...tree.paths].flatMap(([path, p]) => [
      ...(p.subcommands.length || p.argumentChoices.length ? [`complete -c acmectl -n ${quote(`__acmectl_at ${quote(path)}`)} -a ${quote([...p.subcommands, ...p.argumentChoices].join(' '))}`] : []),
      ...(p.certificateNames ? [`complete -c acmectl -n ${quote(`__acmectl_at ${quote(path)}`)} -a ${quote(`(__acmectl_names ${p.certificateNames})`)}`] : []),
      ...p.options.map((long) => optionLine(path, long)),
    ]),
  ];
  return `${lines.join('\n')}\n`;
}
