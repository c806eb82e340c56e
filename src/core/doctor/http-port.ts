import { checkPortFree } from '../../challenge/port-check.js';
import type { PortAvailability } from '../../challenge/port-check.js';
import type { PortListeners } from '../../challenge/port-holder.js';
import type { Check } from './check.js';
import { fail, ok, warn } from './check.js';

export interface PortUse {
  port: number;
  /** Empty: every address, as the standalone server listens by default. */
  addresses: readonly string[];
  /**
   * The certificate this is about (it answers with the standalone server), with its pre-hook, which may free the
   * port; null for this machine's port (`--http-port`): then a taken port fails nothing, since a web server
   * serving a webroot holds it.
   */
  certificate: { name: string; preHook: string | null } | null;
  /** For this machine's port: a stored certificate, or the default of `issue`, answers with the standalone server. */
  standaloneExpected: boolean;
}

/** Port 80 (or the certificate's) is free for the standalone server, or who holds it and what to do. */
export async function checkHttpPort(use: PortUse, bind: (port: number, addresses: readonly string[]) => Promise<PortAvailability> = checkPortFree): Promise<Check> {
  const where = use.addresses.length > 0 ? ` on ${use.addresses.join(', ')}` : '';
  const certificate = use.certificate?.name ?? null;
  const availability = await bind(use.port, use.addresses);
  if (availability.free) return ok('http-port', certificate, `port ${use.port}${where} is free: the standalone server can listen`);
  if (availability.code !== 'EADDRINUSE') {
    const detail = availability.error.message;
    const fix = availability.error.hint ?? 'check --http-port and --http-address';
    return use.certificate ? fail('http-port', certificate, detail, fix) : warn('http-port', null, detail, `for --standalone: ${fix}`);
  }
  const holder = describeHolders(availability.listeners, use.port);
  const detail = `port ${use.port}${where} is held by ${holder.who}`;
  if (use.certificate?.preHook) {
    return warn('http-port', certificate, `${detail}; the pre-hook "${use.certificate.preHook}" must free it before each renewal`, `check that the pre-hook stops ${holder.who}, and a post-hook starts it again${holder.find}`);
  }
  const standaloneFix = `stop it with --pre-hook (and start it again with --post-hook), or answer with --webroot DIR from the server that holds it${holder.find}`;
  if (use.certificate) return fail('http-port', certificate, `${detail}, where this certificate's standalone server must listen`, standaloneFix);
  if (use.standaloneExpected) return warn('http-port', null, `${detail}: --standalone (the default of issue) cannot listen there`, standaloneFix);
  return ok('http-port', null, `${detail}: fine for --webroot, when that server serves the webroot`);
}

/** "nginx (pid 812, 813)", with how to find out when /proc could not tell. */
function describeHolders(listeners: PortListeners | null, port: number): { who: string; find: string } {
  const byCommand = new Map<string, number[]>();
  for (const holder of listeners?.holders ?? []) byCommand.set(holder.command, [...(byCommand.get(holder.command) ?? []), holder.pid]);
  if (byCommand.size > 0) return { who: [...byCommand].map(([command, pids]) => `${command} (pid ${pids.join(', ')})`).join(', '), find: '' };
  return { who: 'another process', find: `; ss -ltnp 'sport = :${port}' (as root) names it` };
}
