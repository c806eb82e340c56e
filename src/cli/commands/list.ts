import { readAllCertificates, summarize } from '../../core/certificate-list.js';
import { UsageError } from '../../domain/errors.js';
import type { Command } from '../command.js';
import { buildContext } from '../context.js';
import { formatTable } from '../table.js';

export interface ListOptions {
  expiring?: string;
}

export const list: Command<ListOptions> = async ({ options, global, reporter, signal }) => {
  const expiring = options.expiring === undefined ? undefined : parseDays(options.expiring);
  const ctx = await buildContext(global, {}, reporter, signal);
  const now = new Date();
  let summaries: ReturnType<typeof summarize>[] = [];
  if (ctx.storeMayHoldData()) {
    const store = await ctx.openStore();
    try {
      summaries = (await readAllCertificates(store)).map((record) => summarize(record, now));
    } finally {
      await store.close();
    }
  }
  if (expiring !== undefined) summaries = summaries.filter((s) => s.daysLeft < expiring);
  summaries.sort((a, b) => a.name.localeCompare(b.name));
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
  return 0;
};

function parseDays(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--expiring takes a number of days, got "${text}"`);
  return Number(text);
}
