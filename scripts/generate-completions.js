// Writes completions/acmectl.bash, completions/_acmectl (zsh) and completions/acmectl.fish from the built
// command tree (run after `npm run build`); src/cli/shipped-files.test.ts checks they are current.
import { writeFileSync } from 'node:fs';
import { COMPLETION_FILES } from '../dist/cli/completion-files.js';
import { buildProgram } from '../dist/cli/program.js';

const program = buildProgram(async () => {});
for (const { file, render } of Object.values(COMPLETION_FILES)) writeFileSync(new URL(`../${file}`, import.meta.url), render(program));
