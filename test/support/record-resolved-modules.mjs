// The ES module half of record-loaded-modules.cjs: a resolve hook (it runs on Node's loader thread) that appends
// every module URL resolved to $RECORD_LOADED_MODULES.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(process.env.RECORD_LOADED_MODULES, `${resolved.url}\n`);
  return resolved;
}
