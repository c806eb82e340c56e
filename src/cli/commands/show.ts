import { X509Certificate } from 'node:crypto';
import { commonNameOf, pemCertificateBlocks } from '../../pki/pem.js';
import { exportedPaths } from '../../deploy/pem-export.js';
import { readCertificate, summarize } from '../../core/certificate-list.js';
import { resolve } from 'node:path';
import { chainTopIssuer, checkCertificateName, exportDirectoryOf } from '../../core/certificate-record.js';
import { rateLimitOf, shownTime } from '../../core/rate-limit-memory.js';
import { recordDecision } from '../../core/renewal-decision.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import { openStoreHolding } from '../run-store.js';

export interface ShowOptions {
  pem?: boolean;
}

export const show: Command<ShowOptions> = async ({ args, options, global, reporter, signal }) => {
  const name = checkCertificateName(args[0]!);
  const ctx = await buildContext(global, {}, reporter, signal);
  const store = await openStoreHolding(ctx, name);
  let record;
  let rateLimit;
  try {
    record = await readCertificate(store, name);
    rateLimit = await rateLimitOf(store, record, new Date());
  } finally {
    await store.close();
  }
  const now = new Date();
  const summary = summarize(record, now);
  const decision = recordDecision(record, now);
  // Stored ARI info is about one version; after a renewal it waits for the next `renew` to ask again.
  const ari = record.renewalInfo?.serial === record.current.serial ? record.renewalInfo : null;
  const { current, settings } = record;
  const files = exportedPaths(exportDirectoryOf(settings, resolve(ctx.exportDir)), record.name);
  const topIssuer = chainTopIssuer(current);
  const versions = [current, ...record.history].map((v) => ({ version: v.version, serial: v.serial, notAfter: v.notAfter, issuedAt: v.issuedAt }));
  if (options.pem) {
    reporter.result({ ok: true, name: record.name, certificatePem: current.certPem, chainPem: current.chainPem }, () => [`${current.certPem}${current.chainPem}`.trimEnd()], { always: true });
    return 0;
  }
  reporter.result(
    {
      ok: true,
      ...summary,
      issuer: current.issuer,
      chainTopIssuer: topIssuer,
      keyType: settings.keyType,
      version: current.version,
      settings,
      files: { cert: files.cert, chain: files.chain, fullchain: files.fullchain, privkey: files.privkey },
      versions,
      renewal: { due: decision.due, rule: decision.rule, at: decision.renewalTime.toISOString(), reason: decision.reason },
      renewalInfo: ari
        ? { windowStart: ari.windowStart, windowEnd: ari.windowEnd, renewAt: ari.renewAt, explanationURL: ari.explanationURL, fetchedAt: ari.fetchedAt, askAgainAfter: ari.retryAfter }
        : null,
      ...(rateLimit ? { rateLimit } : {}),
      lastAttempt: record.lastAttempt ?? null,
    },
    () => [
      `name:        ${record.name}`,
      `domains:     ${summary.domains.join(', ')}`,
      `status:      ${summary.status} (${summary.daysLeft} days left)`,
      `serial:      ${current.serial}`,
      `issuer:      ${current.issuer}`,
      `chain:       ${describeChain(topIssuer, settings.preferredChain)}`,
      `key type:    ${settings.keyType}`,
      `valid:       ${current.notBefore} to ${current.notAfter}`,
      `renewal:     ${decision.renewalTime.toISOString()} (${decision.reason})`,
      ...(record.lastAttempt ? [`last order:  ${record.lastAttempt.at}, ${record.lastAttempt.ok ? 'succeeded' : `failed: ${record.lastAttempt.error ?? 'unknown error'}`}`] : []),
      ...(ari
        ? [
            `ARI window:  ${ari.windowStart} to ${ari.windowEnd}, renewing at ${ari.renewAt}`,
            ...(ari.explanationURL ? [`ARI why:     ${ari.explanationURL}`] : []),
            `ARI asked:   ${ari.fetchedAt}, again after ${ari.retryAfter}`,
          ]
        : []),
      `CA:          ${settings.server}`,
      ...(settings.profile ? [`profile:     ${settings.profile}`] : []),
      ...(settings.caBundlePem ? [`CA bundle:   ${describeCaBundle(settings.caBundlePem)} (stored with the certificate)`] : []),
      `challenge:   ${settings.challenge}${settings.challenge === 'webroot' ? ` (${settings.webroot})` : ` (port ${settings.httpPort}${settings.httpAddress ? `, ${settings.httpAddress}` : ''})`}`,
      `files:       ${files.dir}/{cert,chain,fullchain,privkey}.pem`,
      ...(rateLimit ? [`rate limit:  ${describeRateLimit(rateLimit)}`] : []),
      'versions:',
      ...versions.map((v) => `  ${String(v.version).padStart(3)}  serial ${v.serial}  not after ${v.notAfter}  issued ${v.issuedAt}`),
    ],
    { always: true },
  );
  return 0;
};

/** The CA's last rate-limit refusal: held back until when, or a wait that has passed (the next renewal tries again). */
function describeRateLimit(limit: NonNullable<Awaited<ReturnType<typeof rateLimitOf>>>): string {
  const said = `(it said: ${limit.detail})`;
  if (!limit.active) return `the CA asked to wait until ${shownTime(limit.until)} ${said}; that has passed, the next renewal tries again`;
  return `held back until ${shownTime(limit.until)}${limit.scope === 'account' ? ', with every certificate of its account' : ''} ${said}; --force tries sooner`;
}

/** "2 certificates: Root A, Root B": what a stored --ca-bundle trusts, by subject common name. */
function describeCaBundle(pem: string): string {
  const names = pemCertificateBlocks(pem).map((block) => commonNameOf(new X509Certificate(block).subject));
  return `${names.length} certificate${names.length === 1 ? '' : 's'}: ${names.join(', ')}`;
}

/** `top issuer "ISRG Root X1"; preferred: ...`: the root the stored chain leads to, and the --preferred-chain setting. */
function describeChain(topIssuer: string | null, preferred: string | null): string {
  const top = topIssuer === null ? 'top issuer unreadable' : `top issuer "${topIssuer}"`;
  if (preferred === null) return `${top}; preferred: none (the CA's default chain)`;
  return `${top}; preferred: "${preferred}"${preferred === topIssuer ? '' : ' (the CA offered no usable chain to it when this version was issued)'}`;
}
