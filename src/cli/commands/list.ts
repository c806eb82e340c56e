import { resolve } from 'node:path';
import { forEachCertificate, summarize } from '../../core/certificate-list.js';
import type { CertificateSummary } from '../../core/certificate-list.js';
import type { CertificateRecord } from '../../core/certificate-record.js';
import { writeFileAtomic } from '../../deploy/atomic-file.js';
import { UsageError } from '../../domain/errors.js';
import { visibleText } from '../../domain/visible-text.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import { prometheusMetrics } from '../prometheus-metrics.js';
import { formatTable } from '../table.js';

export const LIST_FORMATS = ['table', 'json', 'prometheus'] as const;

export interface ListOptions {
  expiring?: string;
  format?: (typeof LIST_FORMATS)[number];
  output?: string;
}

/**
 * Lists the certificates as a table, JSON or Prometheus metrics (to stdout, or atomically to --output for
 * node_exporter's textfile collector). With --expiring DAYS only those with fewer days left, and exit 1 when
 * there is any (a Nagios-style check).
 */
export const list: Command<ListOptions> = async ({ options, global, reporter, signal }) => {
  const expiring = options.expiring === undefined ? undefined : parseDays(options.expiring);
  const format = options.format ?? (global.json ? 'json' : 'table');
  if (global.json && format === 'prometheus' && options.output === undefined) throw new UsageError('--format prometheus prints metrics, not JSON', { hint: 'drop --json, or write the metrics to a file with --output FILE' });
  if (options.output !== undefined && format !== 'prometheus') throw new UsageError('--output writes Prometheus metrics', { hint: 'add --format prometheus' });
  if (options.output === '') throw new UsageError('--output needs a file name');
  const ctx = await buildContext(global, {}, reporter, signal);
  const now = new Date();
  // The metrics need whole records; a table or JSON only each one's summary (10,000 records are not kept).
  let records: CertificateRecord[] = [];
  let summaries: CertificateSummary[] = [];
  if (ctx.storeMayHoldData()) {
    const store = await ctx.openStore();
    try {
      await forEachCertificate(store, (record) => {
        summaries.push(summarize(record, now));
        if (format === 'prometheus') records.push(record);
      });
    } finally {
      await store.close();
    }
  }
  if (expiring !== undefined) {
    summaries = summaries.filter((s) => s.daysLeft < expiring);
    const shown = new Set(summaries.map((s) => s.name));
    records = records.filter((r) => shown.has(r.name));
  }
  summaries.sort((a, b) => a.name.localeCompare(b.name));
  records.sort((a, b) => a.name.localeCompare(b.name));
  // Nagios style: with --expiring, finding any certificate is the failure the check looks for.
  const exitCode = expiring !== undefined && summaries.length > 0 ? 1 : 0;

  if (format === 'prometheus') {
    const metrics = prometheusMetrics(records, now);
    if (options.output === undefined) {
      reporter.result({ ok: true, metrics }, () => [metrics.trimEnd()], { always: true });
    } else {
      const path = resolve(options.output);
      // Atomic: the collector reads the file at any moment and must never see half of it.
      await writeFileAtomic(path, metrics, 0o644);
      reporter.result({ ok: true, output: path, certificates: records.length }, () => [`wrote the metrics of ${records.length} certificate(s) to ${path}`]);
    }
    return exitCode;
  }
  reporter.result(
    { ok: true, certificates: summaries },
    () => {
      if (summaries.length === 0) return [expiring === undefined ? 'no certificates yet (acmectl issue example.com gets one)' : `no certificate expires within ${expiring} days`];
      const c = reporter.colors;
      const paint = { valid: c.green, due: c.yellow, expired: c.red, revoked: c.red } as const;
      return formatTable(
        ['NAME', 'DOMAINS', 'NOT AFTER', 'DAYS LEFT', 'STATUS'],
        summaries.map((s) => [s.name, s.domains.join(','), s.notAfter.replace('.000Z', 'Z'), String(s.daysLeft), s.status]),
      ).map((line, index) => (index === 0 ? line : line.replace(/(valid|due|expired|revoked)$/, (status) => paint[status as keyof typeof paint](status))));
    },
    { always: true },
  );
  return exitCode;
};

function parseDays(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--expiring takes a number of days, got "${visibleText(text, 100)}"`);
  return Number(text);
}
