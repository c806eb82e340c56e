import type { AddressProbe, WebrootProbeReport } from '../../challenge/webroot-probe.js';
import { RESOLVE_VARIABLE } from '../../challenge/name-addresses.js';
import type { Check, Verdict } from './check.js';

/**
 * What to tell the user when a probe token (challenge/webroot-probe.ts) was not served: the wording of one kind
 * of answering host (a web server serving a webroot, acmectl serve answering from the store). The verdicts are
 * the same for both: judgeProbe() decides them.
 */
export interface ProbeAdvice {
  /** The check's name: `webroot`, `serve`. */
  check: string;
  /** The token could not be written: what was seen, and the fix. */
  writeFailed(error: { message: string; hint: string | undefined }): { detail: string; fix: string };
  /** The fix for an address that answered without the token; `url` is where the token was asked for. */
  answeredWithout(probe: AddressProbe, url: string, status: number): string;
  /** The fix for an IPv6 address that answered without the token while IPv4 served it. */
  aaaaElsewhere(probe: AddressProbe, port: number): string;
  /** The fix for an address that refused the connection. */
  refused(probe: AddressProbe, port: number): string;
  /** The fix for an IPv6 address that refused the connection while IPv4 served the token (a warning). */
  refusedOverIpv6(probe: AddressProbe, port: number): string;
  /** The fix for any other failure to fetch the token. */
  unreachable(probe: AddressProbe): string;
  /** The detail when nothing failed and nothing could be probed. */
  nothingProbed: string;
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
 * The verdict on a probe: fail when the token could not be written, or when an address of a name answered without
 * it (another server, a 404) or refused the connection (unless IPv4 served it: a CA falls back from IPv6 only when
 * it cannot connect); warn for names with no address here and addresses this machine cannot reach; ok when every
 * address served the token.
 */
export function judgeProbe(report: WebrootProbeReport, certificate: string | null, advice: ProbeAdvice): Check {
  const name = advice.check;
  if (report.writeError) return { name, certificate, verdict: 'fail', ...advice.writeFailed(report.writeError) };
  const findings: Finding[] = [
    ...report.unresolved.map(({ name: host, why }) => ({
      verdict: 'warn' as const,
      text: `${host} was not probed: ${why} on this machine`,
      fix: `give ${host} an A or AAAA record pointing at this server before the CA validates it (${RESOLVE_VARIABLE}=${host}:ADDRESS probes an address meanwhile)`,
    })),
    ...report.probes.map((probe) => judgeAddress(probe, report, advice)),
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
    detail: detail || advice.nothingProbed,
    fix: fixes.length > 0 ? fixes.join('; ') : null,
  };
}

function judgeAddress(probe: AddressProbe, report: WebrootProbeReport, advice: ProbeAdvice): Finding {
  if (probe.served) return { verdict: 'ok', text: '', fix: null };
  const { fetch } = probe;
  const where = `${probe.name} at ${shown(probe)}`;
  const url = `http://${probe.name.includes(':') ? `[${probe.name}]` : probe.name}${report.port === 80 ? '' : `:${report.port}`}${report.path}`;
  const ipv4Served = report.probes.some((p) => p.name === probe.name && p.at.family === 4 && p.served);
  const via = fetch.redirects > 0 ? ` (after ${fetch.redirects} redirect${fetch.redirects === 1 ? '' : 's'}, at ${fetch.url})` : '';
  if (fetch.kind === 'answered') {
    const answer = fetch.status === 200 ? 'answered 200 with other content than the probe token' : `answered ${fetch.status} instead of the probe token`;
    const fix = probe.at.family === 6 && ipv4Served ? advice.aaaaElsewhere(probe, report.port) : advice.answeredWithout(probe, url, fetch.status);
    return { verdict: 'fail', text: `${where} ${answer}${via}`, fix };
  }
  if (fetch.code === 'ECONNREFUSED') {
    const text = `${where}: connection refused on port ${report.port}${via}`;
    if (probe.at.family === 6 && ipv4Served) return { verdict: 'warn', text, fix: advice.refusedOverIpv6(probe, report.port) };
    return { verdict: 'fail', text, fix: advice.refused(probe, report.port) };
  }
  if (NOT_FROM_HERE.has(fetch.code)) {
    return {
      verdict: 'warn',
      text: `${where}: could not connect from this machine (${fetch.code})${via}`,
      fix: `check from outside that http://${probe.name}${report.port === 80 ? '' : `:${report.port}`}/ reaches this server (a firewall or NAT may block it only from here)`,
    };
  }
  return { verdict: 'fail', text: `${where}: ${fetch.code}${via}`, fix: advice.unreachable(probe) };
}

function shown(probe: AddressProbe): string {
  return `${probe.at.address} (IPv${probe.at.family})`;
}
