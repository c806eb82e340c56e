import type { Command as Commander } from 'commander';
import { renderBashCompletion } from './completion-bash.js';
import { renderFishCompletion } from './completion-fish.js';
import { renderZshCompletion } from './completion-zsh.js';
import type { CompletionShell } from './completion-shells.js';

/** The completion scripts shipped in completions/ (each the rendering of the command tree for its shell). */
export const COMPLETION_FILES: Readonly<Record<CompletionShell, { file: string; render: (program: Commander) => string }>> = {
  bash: { file: 'completions/acmectl.bash', render: renderBashCompletion },
  zsh: { file: 'completions/_acmectl', render: renderZshCompletion },
  fish: { file: 'completions/acmectl.fish', render: renderFishCompletion },
};
