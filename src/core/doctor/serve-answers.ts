import { StorePublishingSolver } from '../../challenge/store-published.js';
import type { WebrootProbeReport } from '../../challenge/webroot-probe.js';
import type { Store } from '../../store/store.js';
import type { Check } from './check.js';
import { judgeProbe } from './probe-verdict.js';
import type { ProbeAdvice } from './probe-verdict.js';
import type { WebrootProber } from './webroot-served.js';

/**
 * A certificate of `--challenge store` is answered by `acmectl serve` on every host its names point to (doctor):
 * a probe token is published to the shared store as the store method publishes a challenge, fetched through
 * every name at each address (the webroot probe's fetching), and deleted.
 */
export async function checkServeAnswers(certificate: string, store: Store, names: readonly string[], port: number, probe: WebrootProber): Promise<Check> {
  const solver = new StorePublishingSolver(store, null);
  try {
    return judgeServeProbe(await probe(solver, names, port), certificate);
  } finally {
    await solver.close();
  }
}

export function judgeServeProbe(report: WebrootProbeReport, certificate: string): Check {
  return judgeProbe(report, certificate, SERVE_ADVICE);
}

const SERVE_ADVICE: ProbeAdvice = {
  check: 'serve',
  writeFailed: (error) => ({
    detail: `could not publish a probe token to the store: ${error.message}`,
    fix: error.hint ?? 'check that the store is reachable and writable with these credentials',
  }),
  answeredWithout: (probe, _url, status) =>
    status === 503
      ? `acmectl serve at ${probe.at.address} cannot read the store: check its --store URL and credentials`
      : `run acmectl serve with this store (the same --store) on every host ${probe.name} points to, or have the web server at ${probe.at.address} pass /.well-known/acme-challenge/ on to it`,
  aaaaElsewhere: (probe) => `the AAAA record of ${probe.name} points at ${probe.at.address}, where acmectl serve does not answer: correct or remove the AAAA record, or run acmectl serve there too`,
  refused: (probe, port) => `nothing listens on port ${port} at ${probe.at.address}: run acmectl serve with this store on every host ${probe.name} points to`,
  refusedOverIpv6: (probe, port) => `nothing listens on port ${port} at ${probe.at.address}: the CA falls back to IPv4 then, but acmectl serve listening on IPv6 too (its default) or no AAAA record is cleaner`,
  unreachable: (probe) => `check that ${probe.name} reaches a host running acmectl serve`,
  nothingProbed: 'a probe token was published to the store; no name of the certificate could be probed',
};
