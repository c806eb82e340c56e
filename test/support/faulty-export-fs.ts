import { nodeExportFs, type ExportFs, type FileHandle } from '../../src/deploy/export-fs.js';

export type FaultMode = 'fail-once' | 'crash';

/**
 * `base` (the real fs by default) with a fault at call number `failAt` (1-based):
 * - 'fail-once': that call fails without effect, later calls work (an ordinary error; cleanup can run);
 * - 'crash': that call and all later ones fail without effect, as if the process had died just before it.
 *   (Dying just after call N is the same as dying just before call N+1.)
 */
export function faultyFs(failAt: number, mode: FaultMode, base: ExportFs = nodeExportFs) {
  const calls: string[] = [];
  const openHandles = new Set<FileHandle>();
  const fs = {} as Record<string, unknown>;
  for (const [op, real] of Object.entries(base) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    fs[op] = async (...args: unknown[]) => {
      calls.push(op);
      const n = calls.length;
      if (n === failAt || (mode === 'crash' && n > failAt)) {
        throw Object.assign(new Error(`injected fault at call ${n} (${op})`), { code: 'EIO' });
      }
      const result = await real(...args);
      if (op === 'open') openHandles.add(result as FileHandle);
      if (op === 'close') openHandles.delete(args[0] as FileHandle);
      return result;
    };
  }
  return {
    fs: fs as unknown as ExportFs,
    calls,
    /** Closes descriptors a simulated crash left open. */
    async dispose() {
      for (const handle of openHandles) await handle.close().catch(() => undefined);
    },
  };
}
