import type { Command as Commander, Option } from 'commander';
import { visibleSubcommands } from './visible-commands.js';

/**
 * What a shell needs to complete acmectl, read from the real command tree so that no completion script can
 * drift from the commands: the words each command path offers, and how each option's value is completed.
 */
export interface CompletionTree {
  /** Options every command takes (--json, --store, ...). */
  globalOptions: string[];
  /** Command path ("" for the top, "account register") → subcommands, argument choices and options it offers. */
  paths: Map<string, CompletionPath>;
  /** Every option that takes a value, with how to complete it. */
  values: Map<string, ValueCompletion>;
}

export interface CompletionPath {
  subcommands: string[];
  /** Fixed values of the command's arguments (e.g. the shells of `completion`). */
  argumentChoices: string[];
  /** Long options of this command only (globals are in CompletionTree.globalOptions). */
  options: string[];
  /** Whether the command takes stored certificate names (an argument called `name`): one, several, or none. */
  certificateNames: 'one' | 'many' | null;
}

/** The hidden command the scripts run for the stored certificate names (commands/certificate-names.ts). */
export const CERTIFICATE_NAMES_COMMAND = '__certificate-names';

/** Options passed on to CERTIFICATE_NAMES_COMMAND when typed earlier on the line: they choose the store. */
export const STORE_CHOOSING_OPTIONS = ['--config', '--store'] as const;

/** How an option's value is completed: a file name, one of fixed values, or nothing to offer. */
export type ValueCompletion = { kind: 'file' } | { kind: 'choice'; values: string[] } | { kind: 'free' };

/** Options whose value is a path on this machine. */
const FILE_OPTIONS = new Set(['--config', '--ca-bundle', '--webroot', '--out', '--output', '--password-file']);

export function completionTree(program: Commander): CompletionTree {
  const globalOptions = longOptions(program.options);
  const globals = new Set(globalOptions);
  const paths = new Map<string, CompletionPath>();
  const values = new Map<string, ValueCompletion>();
  const visit = (command: Commander, path: string): void => {
    for (const option of command.options) {
      if (!option.long || !(option.required || option.optional)) continue;
      const value: ValueCompletion = option.argChoices ? { kind: 'choice', values: option.argChoices } : FILE_OPTIONS.has(option.long) ? { kind: 'file' } : { kind: 'free' };
      const seen = values.get(option.long);
      // One option name, different values in different commands (list --format table|json|prometheus, issue
      // --format pem,combined): the scripts complete by the option alone, so they offer nothing for it.
      values.set(option.long, seen && JSON.stringify(seen) !== JSON.stringify(value) ? { kind: 'free' } : value);
    }
    const subcommands = visibleSubcommands(command);
    const nameArgument = command.registeredArguments.find((a) => a.name() === 'name');
    paths.set(path, {
      subcommands: subcommands.flatMap((c) => [c.name(), ...c.aliases()]),
      argumentChoices: command.registeredArguments.flatMap((a) => a.argChoices ?? []),
      options: longOptions(command.options).filter((o) => !globals.has(o)),
      certificateNames: nameArgument ? (nameArgument.variadic ? 'many' : 'one') : null,
    });
    for (const sub of subcommands) {
      for (const name of [sub.name(), ...sub.aliases()]) visit(sub, path ? `${path} ${name}` : name);
    }
  };
  visit(program, '');
  return { globalOptions, paths, values };
}

function longOptions(options: readonly Option[]): string[] {
  return options.flatMap((o) => (o.long ? [o.long] : []));
}

/** The options of `tree` that take a value, sorted, for the shells' "skip the next word" rule. */
export function valuedOptions(tree: CompletionTree): string[] {
  return [...tree.values.keys()].sort();
}

/** Options by how their value is completed, sorted. */
export function optionsByValue(tree: CompletionTree, kind: ValueCompletion['kind']): string[] {
  return [...tree.values].filter(([, v]) => v.kind === kind).map(([o]) => o).sort();
}
