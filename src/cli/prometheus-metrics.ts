import type { CertificateRecord } from '../core/certificate-record.js';

/**
 * The certificates as Prometheus metrics in the text exposition format (version 0.0.4), ready for
 * node_exporter's textfile collector: one gauge family per fact, one sample per certificate, labelled by its
 * name. Times are Unix seconds. A family no certificate has a sample for is left out.
 */
export function prometheusMetrics(records: readonly CertificateRecord[], now: Date): string {
  const families: { name: string; help: string; sample: (record: CertificateRecord) => { labels?: Record<string, string>; value: number } | null }[] = [
    { name: 'acmectl_certificate_not_after_timestamp_seconds', help: 'End of validity of the current certificate version.', sample: (r) => ({ value: seconds(r.current.notAfter) }) },
    { name: 'acmectl_certificate_seconds_left', help: 'Seconds until the current certificate version expires (negative when expired).', sample: (r) => ({ value: Math.round((Date.parse(r.current.notAfter) - now.getTime()) / 1000) }) },
    { name: 'acmectl_certificate_revoked', help: '1 when the current certificate version was revoked.', sample: (r) => ({ value: r.current.revoked ? 1 : 0 }) },
    { name: 'acmectl_certificate_last_success_timestamp_seconds', help: 'When the current certificate version was obtained.', sample: (r) => ({ value: seconds(r.current.issuedAt) }) },
    { name: 'acmectl_certificate_last_attempt_timestamp_seconds', help: 'When an order was last attempted for the certificate.', sample: (r) => (r.lastAttempt ? { value: seconds(r.lastAttempt.at) } : null) },
    { name: 'acmectl_certificate_last_attempt_success', help: '1 when the last attempted order succeeded, 0 when it failed.', sample: (r) => (r.lastAttempt ? { value: r.lastAttempt.ok ? 1 : 0 } : null) },
    {
      name: 'acmectl_certificate_ari_window_start_timestamp_seconds',
      help: "Start of the CA's suggested renewal window (ARI) for the current version.",
      sample: (r) => (r.renewalInfo && r.renewalInfo.serial === r.current.serial ? { value: seconds(r.renewalInfo.windowStart) } : null),
    },
  ];
  const lines: string[] = [];
  for (const family of families) {
    const samples = records.flatMap((record) => {
      const sample = family.sample(record);
      return sample && Number.isFinite(sample.value) ? [`${family.name}{name="${labelValue(record.name)}"} ${sample.value}`] : [];
    });
    if (samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`, ...samples);
  }
  lines.push('# HELP acmectl_certificates Certificates in the store.', '# TYPE acmectl_certificates gauge', `acmectl_certificates ${records.length}`);
  return `${lines.join('\n')}\n`;
}

function seconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

/** A label value escaped as the text format requires (backslash, double quote, line feed). */
function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
