import type { WebrootProbeReport } from '../../challenge/webroot-probe.js';
import { WebrootSolver } from '../../challenge/webroot.js';
import type { Http01Solver } from '../../domain/http01.js';
import type { Check } from './check.js';
import { judgeProbe } from './probe-verdict.js';
import type { ProbeAdvice } from './probe-verdict.js';

/**
 * Probes a webroot through the names on the port (challenge/webroot-probe.ts, with the command's resolver and
 * timeouts bound): the token is written and removed by `solver`.
 */
export type WebrootProber = (solver: Pick<Http01Solver, 'present' | 'cleanUp'>, names: readonly string[], port: number) => Promise<WebrootProbeReport>;

/** A certificate's webroot is writable and served through each of its names, at each address (doctor). */
export async function checkWebrootServed(certificate: string, webroot: string, names: readonly string[], port: number, probe: WebrootProber): Promise<Check> {
  const solver = new WebrootSolver(webroot);
  try {
    return judgeWebrootProbe(await probe(solver, names, port), webroot, certificate);
  } finally {
    await solver.close();
  }
}

/** How a webroot that is not served is fixed: the web server, its document root, its IPv6 listener. */
function webrootAdvice(webroot: string): ProbeAdvice {
  return {
    check: 'webroot',
    writeFailed: (error) => ({
      detail: `could not write a probe token under ${webroot}/.well-known/acme-challenge/: ${error.message}`,
      fix: error.hint ?? `make ${webroot} writable by the user acmectl runs as`,
    }),
    answeredWithout: (probe, url) =>
      `make the web server for ${probe.name} serve ${webroot}/.well-known/acme-challenge/ at ${url.slice(0, url.lastIndexOf('/') + 1)} (nginx: location ^~ /.well-known/acme-challenge/ { root ${webroot}; }), or give --webroot the directory it serves`,
    aaaaElsewhere: (probe, port) =>
      `the AAAA record of ${probe.name} points at ${probe.at.address}, where the web server does not serve ${webroot}: correct or remove the AAAA record, or serve the webroot over IPv6 too (nginx: listen [::]:${port})`,
    refused: (probe, port) => `start the web server on port ${port} at ${probe.at.address}, or point ${probe.name} at the server that serves ${webroot}`,
    refusedOverIpv6: (probe, port) =>
      `nothing listens on port ${port} at ${probe.at.address}: the CA falls back to IPv4 then, but a server listening on IPv6 too (nginx: listen [::]:${port}) or no AAAA record is cleaner`,
    unreachable: (probe) => `check that ${probe.name} reaches the web server that serves ${webroot}`,
    nothingProbed: `${webroot} is writable; no name of the certificate could be probed`,
  };
}

/**
 * The verdict on a webroot probe (challenge/webroot-probe.ts), shared by `acmectl doctor` and the preflight of
 * issue and renew (the rules: probe-verdict.ts).
 */
export function judgeWebrootProbe(report: WebrootProbeReport, webroot: string, certificate: string | null): Check {
  return judgeProbe(report, certificate, webrootAdvice(webroot));
}
