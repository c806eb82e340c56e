import type { AcmectlError } from '../domain/errors.js';
import { findPortListeners } from './port-holder.js';
import type { PortListeners } from './port-holder.js';
import { StandaloneSolver } from './standalone.js';

/** Whether the standalone server could listen now, and if not, why and (for a taken port) who holds it. */
export type PortAvailability =
  | { free: true }
  /** `error` is what `issue --standalone` would say; `listeners` is null when /proc could not tell. */
  | { free: false; code: string | undefined; error: AcmectlError; listeners: PortListeners | null };

/** Binds the port on the addresses (none: every address) as the standalone solver does, and lets it go. */
export async function checkPortFree(port: number, addresses: readonly string[]): Promise<PortAvailability> {
  const solver = new StandaloneSolver({ port, addresses });
  try {
    await solver.checkReady();
    return { free: true };
  } catch (error) {
    const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    return { free: false, code, error: error as AcmectlError, listeners: code === 'EADDRINUSE' ? await findPortListeners(port) : null };
  } finally {
    await solver.close();
  }
}
