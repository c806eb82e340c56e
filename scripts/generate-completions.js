// Writes completions/acmectl.bash from the built command tree (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { renderBashCompletion } from '../dist/cli/completion-bash.js';
import { buildProgram } from '../dist/cli/program.js';

writeFileSync(new URL('../completions/acmectl.bash', import.meta.url), renderBashCompletion(buildProgram(async () => {})));
