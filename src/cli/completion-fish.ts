import type { Command as Commander } from 'commander';
import { completionTree, valuedOptions } from './completion-tree.js';

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
    '# The subcommand path typed so far ("account register"), skipping options and their values.',
    'function __acmectl_path',
    '    set -l tokens (commandline -opc)',
    '    set -l words',
    '    set -l skip 0',
    `    set -l paths ${[...tree.paths.keys()].filter((p) => p !== '').map(quote).join(' ')}`,
    '    for token in $tokens[2..-1]',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch $token',
    `            case ${valuedOptions(tree).join(' ')}`,
    '                set skip 1',
    "            case '-*'",
    "            case '*'",
    '                # a word extends the command path only when it names a subcommand; else it is an argument',
    '                set -l extended (string join " " -- $words $token)',
    '                if contains -- $extended $paths',
    '                    set -a words $token',
    '                end',
    '        end',
    '    end',
    '    string join " " -- $words',
    'end',
    '',
    'function __acmectl_at',
    '    set -l typed (__acmectl_path)',
    '    test "$typed" = "$argv[1]"',
    'end',
    '',
    'complete -c acmectl -f',
    ...tree.globalOptions.map((long) => optionLine(null, long)),
    ...[...tree.paths].flatMap(([path, p]) => [
      ...(p.subcommands.length || p.argumentChoices.length ? [`complete -c acmectl -n ${quote(`__acmectl_at ${quote(path)}`)} -a ${quote([...p.subcommands, ...p.argumentChoices].join(' '))}`] : []),
      ...p.options.map((long) => optionLine(path, long)),
    ]),
  ];
  return `${lines.join('\n')}\n`;
}
