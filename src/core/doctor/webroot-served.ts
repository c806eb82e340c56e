import type { AddressProbe, WebrootProbeReport } from '../../challenge/webroot-probe.js';
import { RESOLVE_VARIABLE } from '../../challenge/name-addresses.js';
import { WebrootSolver } from '../../challenge/webroot.js';
import type { Http01Solver } from '../../domain/http01.js';
import type { Check, Verdict } from './check.js';

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

interface Finding {
  verdict: Verdict;
  text: string;
  fix: string | null;
}

// No answer from these means this machine could not get there, which says little about the CA, which connects
// from outside (hairpin NAT, a firewall for outgoing traffic, no IPv6 route here): a warning, not a failure.
const NOT_FROM_HERE = new Set(['ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET', 'EAI_AGAIN']);

/**
 * The verdict on a webroot probe (challenge/webroot-probe.ts), shared by `acmectl doctor` and the preflight of
 * issue and renew: fail when the token could not be written, or when an address of a name answered without it
 * (another server, another directory, a 404) or refused the connection (unless IPv4 served it: a CA falls back
 * from IPv6 only when it cannot connect); warn for names with no address here and addresses this machine cannot
 * reach; ok when every address served the token.
 */
export function judgeWebrootProbe(report: WebrootProbeReport, webroot: string, certificate: string | null): Check {
  const name = 'webroot';
  if (report.writeError) {
    return {
      name,
      certificate,
      verdict: 'fail',
      detail: `could not write a probe token under ${webroot}/.well-known/acme-challenge/: ${report.writeError.message}`,
      fix: report.writeError.hint ?? `make ${webroot} writable by the user acmectl runs as`,
    };
  }
  const findings: Finding[] = [
    ...report.unresolved.map(({ name: host, why }) => ({
      verdict: 'warn' as const,
      text: `${host} was not probed: ${why} on this machine`,
      fix: `give ${host} an A or AAAA record pointing at this server before the CA validates it (${RESOLVE_VARIABLE}=${host}:ADDRESS probes an address meanwhile)`,
    })),
    ...report.probes.map((probe) => judgeAddress(probe, report, webroot)),
  ];
  const verdict: Verdict = findings.some((f) => f.verdict === 'fail') ? 'fail' : findings.some((f) => f.verdict === 'warn') ? 'warn' : 'ok';
  const served = report.probes.filter((p) => p.served);
  const problems = findings.filter((f) => f.verdict !== 'ok');
  const servedText = served.length > 0 ? `served through ${served.map((p) => `${p.name} at ${shown(p)}`).join(', ')}` : '';
  const detail = [...problems.map((f) => f.text), ...(verdict === 'ok' || served.length > 0 ? [servedText] : [])].filter((t) => t !== '').join('; ');
  const fixes = [...new Set(problems.flatMap((f) => (f.fix ? [f.fix] : [])))];
  return {
    name,
    certificate,
    verdict,
    detail: detail || `${webroot} is writable; no name of the certificate could be probed`,
    fix: fixes.length > 0 ? fixes.join('; ') : null,
  };
}

function judgeAddress(probe: AddressProbe, report: WebrootProbeReport, webroot: string): Finding {
  if (probe.served) return { verdict: 'ok', text: '', fix: null };
  const { fetch } = probe;
  const where = `${probe.name} at ${shown(probe)}`;
  const url = `http://${probe.name.includes(':') ? `[${probe.name}]` : probe.name}${report.port === 80 ? '' : `:${report.port}`}${report.path}`;
  const ipv4Served = report.probes.some((p) => p.name === probe.name && p.at.family === 4 && p.served);
  const via = fetch.redirects > 0 ? ` (after ${fetch.redirects} redirect${fetch.redirects === 1 ? '' : 's'}, at ${fetch.url})` : '';
  if (fetch.kind === 'answered') {
    const answer = fetch.status === 200 ? 'answered 200 with other content than the probe token' : `answered ${fetch.status} instead of the probe token`;
    const fix =
      probe.at.family === 6 && ipv4Served
        ? `the AAAA record of ${probe.name} points at ${probe.at.address}, where the web server does not serve ${webroot}: correct or remove the AAAA record, or serve the webroot over IPv6 too (nginx: listen [::]:${report.port})`
        : `make the web server for ${probe.name} serve ${webroot}/.well-known/acme-challenge/ at ${url.slice(0, url.lastIndexOf('/') + 1)} (nginx: location ^~ /.well-known/acme-challenge/ { root ${webroot}; }), or give --webroot the directory it serves`;
    return { verdict: 'fail', text: `${where} ${answer}${via}`, fix };
  }
  if (fetch.code === 'ECONNREFUSED') {
    const text = `${where}: connection refused on port ${report.port}${via}`;
    if (probe.at.family === 6 && ipv4Served) {
      return { verdict: 'warn', text, fix: `nothing listens on port ${report.port} at ${probe.at.address}: the CA falls back to IPv4 then, but a server listening on IPv6 too (nginx: listen [::]:${report.port}) or no AAAA record is cleaner` };
    }
    return { verdict: 'fail', text, fix: `start the web server on port ${report.port} at ${probe.at.address}, or point ${probe.name} at the server that serves ${webroot}` };
  }
  if (NOT_FROM_HERE.has(fetch.code)) {
    return {
      verdict: 'warn',
      text: `${where}: could not connect from this machine (${fetch.code})${via}`,
      fix: `check from outside that http://${probe.name}${report.port === 80 ? '' : `:${report.port}`}/ reaches this server (a firewall or NAT may block it only from here)`,
    };
  }
  return { verdict: 'fail', text: `${where}: ${fetch.code}${via}`, fix: `check that ${probe.name} reaches the web server that serves ${webroot}` };
}

function shown(probe: AddressProbe): string {
  return `${probe.at.address} (IPv${probe.at.family})`;
}
