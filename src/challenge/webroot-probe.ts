import { randomBytes } from 'node:crypto';
import { CHALLENGE_PATH_PREFIX } from '../domain/http01.js';
import type { Http01Solver } from '../domain/http01.js';
import type { NameAddress, NameResolver } from './name-addresses.js';
import { fetchToken } from './token-fetch.js';
import type { TokenFetch } from './token-fetch.js';

export interface WebrootProbeRequest {
  /**
   * Writes and removes the probe token: the certificate's own webroot solver, so that the probe's files and
   * directories are handled as the order's will be (a run's certificates share one solver per webroot).
   */
  solver: Pick<Http01Solver, 'present' | 'cleanUp'>;
  /** The certificate's names (DNS names or IP addresses): each is fetched at each of its addresses. */
  names: readonly string[];
  /** The port the web server answers on, where the CA connects (80 for a real CA). */
  port: number;
  resolve: NameResolver;
  /** Per request (a DNS question, one HTTP fetch). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** One name fetched at one of its addresses. */
export interface AddressProbe {
  name: string;
  at: NameAddress;
  /** True when the answer was 200 with exactly the probe's content. */
  served: boolean;
  fetch: TokenFetch;
}

/** What the probe found: whether the token could be written, and what each name served at each address. */
export interface WebrootProbeReport {
  port: number;
  /** The probe token's URL path. */
  path: string;
  /** Why the token could not be written, or null. Nothing was fetched then. */
  writeError: { message: string; hint: string | undefined } | null;
  probes: AddressProbe[];
  /** Names with no address on this machine, and why: they could not be probed. */
  unresolved: { name: string; why: string }[];
  /** Names whose addresses came from ACMECTL_RESOLVE. */
  overridden: string[];
}

/**
 * Writes a probe token under `<webroot>/.well-known/acme-challenge/` and fetches it through every name at every
 * A and AAAA address separately, as the CA would; then removes it. Costs the CA nothing.
 */
export async function probeWebroot(request: WebrootProbeRequest): Promise<WebrootProbeReport> {
  const token = `acmectl-probe-${randomBytes(16).toString('base64url')}`;
  const content = `acmectl webroot probe ${randomBytes(16).toString('base64url')}`;
  const path = `${CHALLENGE_PATH_PREFIX}${token}`;
  const report: WebrootProbeReport = { port: request.port, path, writeError: null, probes: [], unresolved: [], overridden: [] };
  const challenge = { identifier: 'the webroot probe', token, keyAuthorization: content };
  try {
    try {
      await request.solver.present(challenge);
    } catch (error) {
      report.writeError = { message: (error as Error).message, hint: (error as { hint?: string }).hint };
      return report;
    }
    const resolutions = await Promise.all([...new Set(request.names)].map((name) => request.resolve(name)));
    for (const resolution of resolutions) {
      if (resolution.unresolved !== null) report.unresolved.push({ name: resolution.name, why: resolution.unresolved });
      if (resolution.overridden) report.overridden.push(resolution.name);
    }
    report.probes = await Promise.all(
      resolutions.flatMap((resolution) =>
        resolution.addresses.map(async (at): Promise<AddressProbe> => {
          const fetch = await fetchToken({ name: resolution.name, at, port: request.port, path, timeoutMs: request.timeoutMs, resolve: request.resolve, ...(request.signal ? { signal: request.signal } : {}) });
          return { name: resolution.name, at, served: fetch.kind === 'answered' && fetch.status === 200 && fetch.body.trim() === content, fetch };
        }),
      ),
    );
    return report;
  } finally {
    await request.solver.cleanUp(challenge).catch(() => undefined);
  }
}
