import { locateHookProgram } from '../../deploy/hook-program.js';
import type { HookCommands, HookKind } from '../../deploy/hooks.js';
import type { Check } from './check.js';
import { fail, ok, warn } from './check.js';

/**
 * The hooks (a certificate's stored ones, or those of the configuration) can run: the program each command starts
 * with is on PATH or an executable path. One check for all of them; null when there is no hook.
 */
export async function checkHooksRunnable(hooks: HookCommands, certificate: string | null, env: { PATH?: string | undefined } = process.env): Promise<Check | null> {
  const given = (Object.entries(hooks) as [HookKind, string | null][]).flatMap(([kind, command]) => (command ? [{ kind, command }] : []));
  if (given.length === 0) return null;
  const failures: string[] = [];
  const unknown: string[] = [];
  for (const { kind, command } of given) {
    const program = await locateHookProgram(command, env);
    if (program.status === 'missing') failures.push(`the ${kind} hook "${command}": ${program.program} is not found on PATH`);
    if (program.status === 'not-executable') failures.push(`the ${kind} hook "${command}": ${program.path} is not executable`);
    if (program.status === 'unknown') unknown.push(`the ${kind} hook "${command}" starts with shell syntax: not checked`);
  }
  if (failures.length > 0) {
    const fix = certificate
      ? 'install the program or give its full path (cron runs hooks with a short PATH); to store another hook, issue the certificate again with the hook option and --force'
      : 'install the program or give its full path in the configuration (cron runs hooks with a short PATH)';
    return fail('hooks', certificate, failures.join('; '), fix);
  }
  if (unknown.length > 0) return warn('hooks', certificate, unknown.join('; '), null);
  return ok('hooks', certificate, `${given.map((g) => `${g.kind} hook`).join(', ')}: the programs are found`);
}
