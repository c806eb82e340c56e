// The bench's results: one row per measured command, its ratios to peers or floors and its targets; printed as
// a Markdown table and written as JSON.
import { cpus, loadavg, release, totalmem } from 'node:os';

/**
 * @typedef {object} Comparison
 * @property {string} against id of the row compared with
 * @property {number} [limit] target: at most this many times the other row's median
 *
 * @typedef {object} Row
 * @property {string} id
 * @property {string} part
 * @property {string} what
 * @property {string} [label] how ratios against this row name it (default: `what`)
 * @property {number[]} samples milliseconds
 * @property {number[]} peaksKiB
 * @property {string} [missing] why there is no figure (a peer that could not be installed or run)
 * @property {Comparison[]} [compare]
 * @property {number} [peakLimitMiB]
 * @property {number} [timeLimitMs]
 * @property {string} [note]
 */

export class Results {
  constructor() {
    /** @type {Row[]} */
    this.rows = [];
    /** @type {string[]} */
    this.notes = [];
  }

  /** @param {Omit<Row, 'samples' | 'peaksKiB'> & Partial<Pick<Row, 'samples' | 'peaksKiB'>>} row */
  add(row) {
    const full = { samples: [], peaksKiB: [], ...row };
    this.rows.push(full);
    return full;
  }

  /** @param {string} id */
  find(id) {
    return this.rows.find((row) => row.id === id);
  }

  /** The rows with their statistics, ratios and verdicts resolved, as written to JSON. */
  resolved() {
    return this.rows.map((row) => {
      const stats = summary(row.samples);
      const peakMiB = row.peaksKiB.length > 0 ? Math.max(...row.peaksKiB) / 1024 : null;
      const comparisons = (row.compare ?? []).map(({ against, limit }) => {
        const other = this.find(against);
        const otherStats = other ? summary(other.samples) : null;
        const ratio = stats && otherStats ? stats.median / otherStats.median : null;
        return {
          against,
          againstWhat: other?.label ?? other?.what ?? against,
          againstMedianMs: otherStats?.median ?? null,
          againstMissing: other?.missing ?? (otherStats ? null : 'not measured'),
          ratio,
          limit: limit ?? null,
          met: limit === undefined || ratio === null ? null : ratio <= limit,
        };
      });
      const targets = [];
      if (row.peakLimitMiB !== undefined) targets.push({ kind: 'peak', limitMiB: row.peakLimitMiB, met: peakMiB === null ? null : peakMiB <= row.peakLimitMiB });
      if (row.timeLimitMs !== undefined) targets.push({ kind: 'time', limitMs: row.timeLimitMs, met: stats === null ? null : stats.median <= row.timeLimitMs });
      return {
        id: row.id,
        part: row.part,
        what: row.what,
        missing: row.missing ?? null,
        runs: row.samples.length,
        medianMs: stats?.median ?? null,
        minMs: stats?.min ?? null,
        maxMs: stats?.max ?? null,
        samplesMs: row.samples.map((ms) => Math.round(ms * 10) / 10),
        peakMiB: peakMiB === null ? null : Math.round(peakMiB * 10) / 10,
        comparisons,
        targets,
        note: row.note ?? null,
      };
    });
  }
}

/** @param {number[]} samples */
export function summary(samples) {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? /** @type {number} */ (sorted[middle]) : (/** @type {number} */ (sorted[middle - 1]) + /** @type {number} */ (sorted[middle])) / 2;
  return { median, min: /** @type {number} */ (sorted[0]), max: /** @type {number} */ (sorted[sorted.length - 1]) };
}

/** @param {number} ms */
export function formatMs(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 100_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 1000).toFixed(0)} s`;
}

/** What the figures were measured on. */
export function machine() {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    loadAverageAtStart: loadavg().map((load) => Math.round(load * 100) / 100),
    date: new Date().toISOString(),
  };
}

/**
 * The Markdown table: median, min–max, peak memory, ratios, targets and whether each is met.
 * @param {ReturnType<Results['resolved']>} rows
 */
export function markdownTable(rows) {
  const lines = ['| part | what | median | min–max | peak | ratio | target | met? |', '|---|---|---|---|---|---|---|---|'];
  for (const row of rows) {
    if (row.missing !== null) {
      lines.push(`| ${row.part} | ${row.what} | missing: ${escapeCell(row.missing)} | | | | | |`);
      continue;
    }
    const ratios = row.comparisons.map((c) => (c.ratio === null ? `— × ${c.againstWhat} (${c.againstMissing ?? 'missing'})` : `${c.ratio.toFixed(2)} × ${c.againstWhat}`));
    const targets = [
      ...row.comparisons.flatMap((c) => (c.limit === null ? [] : [`≤ ${c.limit} × ${c.againstWhat}`])),
      ...row.targets.map((t) => (t.kind === 'peak' ? `peak ≤ ${t.limitMiB} MiB` : `≤ ${t.limitMs / 1000} s`)),
    ];
    const verdict = (met) => (met === null ? 'n/a' : met ? 'yes' : 'no');
    const mets = [
      ...row.comparisons.flatMap((c) => (c.limit === null ? [] : [`${verdict(c.met)} (${c.againstWhat})`])),
      ...row.targets.map((t) => `${verdict(t.met)} (${t.kind})`),
    ];
    const cells = [
      row.part,
      row.what,
      row.medianMs === null ? '—' : formatMs(row.medianMs),
      row.minMs === null || row.maxMs === null ? '—' : `${formatMs(row.minMs)}–${formatMs(row.maxMs)}`,
      row.peakMiB === null ? '' : `${Math.round(row.peakMiB)} MiB`,
      ratios.join('; '),
      targets.join('; '),
      mets.join('; '),
    ];
    lines.push(`| ${cells.map(escapeCell).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** @param {string} text */
function escapeCell(text) {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
