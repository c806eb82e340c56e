import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/** Whether the program a hook command starts with can be run (hooks run as `/bin/sh -c COMMAND`). */
export type HookProgram =
  | { status: 'found'; program: string; path: string }
  /** A word the shell itself understands (`echo`, `cd`, `if`, ...): nothing to find. */
  | { status: 'builtin'; program: string }
  | { status: 'missing'; program: string }
  | { status: 'not-executable'; program: string; path: string }
  /** The command starts with shell syntax (a subshell, a variable, quotes that do not close): not judged. */
  | { status: 'unknown'; program: string };

// POSIX special and regular built-ins and reserved words that may start a command.
const SHELL_WORDS = new Set([
  '.', ':', 'break', 'cd', 'command', 'continue', 'echo', 'eval', 'exec', 'exit', 'export', 'false', 'printf', 'read', 'readonly',
  'return', 'set', 'shift', 'test', '[', 'times', 'trap', 'true', 'type', 'ulimit', 'umask', 'unset', 'wait', 'if', 'for', 'while',
  'until', 'case', '!', '{', '(',
]);

/**
 * The first word of a hook command, the program the shell runs: found on PATH (or as a path, relative to the
 * directory hooks run in), a shell word, or missing. Leading `NAME=value` assignments are skipped.
 */
export async function locateHookProgram(command: string, env: { PATH?: string | undefined } = process.env, cwd = process.cwd()): Promise<HookProgram> {
  const words = command.trim().split(/\s+/);
  let index = 0;
  while (index < words.length - 1 && /^[A-Za-z_][A-Za-z0-9_]*=\S*$/.test(words[index]!)) index++;
  const word = words[index] ?? '';
  const program = /^'[^']*'$|^"[^"$`\\]*"$/.test(word) ? word.slice(1, -1) : word;
  if (SHELL_WORDS.has(program) || /^[({]/.test(program)) return { status: 'builtin', program };
  if (program === '' || /[$`'"\\*?[]/.test(program)) return { status: 'unknown', program };
  const candidates = program.includes('/') ? [isAbsolute(program) ? program : resolve(cwd, program)] : (env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((dir) => join(dir, program));
  let notExecutable: string | undefined;
  for (const path of candidates) {
    const isFile = await stat(path).then((s) => s.isFile(), () => false);
    if (!isFile) continue;
    if (await access(path, constants.X_OK).then(() => true, () => false)) return { status: 'found', program, path };
    notExecutable ??= path;
  }
  return notExecutable ? { status: 'not-executable', program, path: notExecutable } : { status: 'missing', program };
}
