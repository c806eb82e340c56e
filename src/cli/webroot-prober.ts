import { dnsResolver, parseResolveOverrides, RESOLVE_VARIABLE } from '../challenge/name-addresses.js';
import { probeWebroot } from '../challenge/webroot-probe.js';
import type { WebrootProber } from '../core/doctor/webroot-served.js';

// A validating CA gives a server about ten seconds; the probe waits no longer for a DNS answer or a fetch.
const PROBE_TIMEOUT_MS = 10_000;

/**
 * The webroot probe of doctor (its webroot and serve checks) and of the issue/renew preflight: names resolved by
 * this machine's DNS servers, or by ACMECTL_RESOLVE (read here, so that a malformed value is exit 2 before
 * anything is sent).
 */
export function webrootProber(signal: AbortSignal, env: NodeJS.ProcessEnv = process.env): WebrootProber {
  const resolve = dnsResolver(parseResolveOverrides(env[RESOLVE_VARIABLE]), PROBE_TIMEOUT_MS);
  return (solver, names, port) => probeWebroot({ solver, names, port, resolve, timeoutMs: PROBE_TIMEOUT_MS, signal });
}
