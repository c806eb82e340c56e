import { combinedPem } from '../deploy/formats.js';
import type { ExportFormat } from '../deploy/formats.js';
import { exportPem } from '../deploy/pem-export.js';
import type { ExportedPaths } from '../deploy/pem-export.js';
import { pemFilesOf } from './certificate-record.js';
import type { CertificateRecord, CertificateVersion } from './certificate-record.js';

export interface ExportTarget {
  /** Files go to <outDir>/<name>/. */
  outDir: string;
  formats: readonly ExportFormat[];
  /** Asked for only when the formats include pkcs12. */
  pkcs12Password: () => string;
}

/**
 * Writes one version of a certificate: the four PEM files plus the extra formats, all in one atomic switch
 * (see deploy/pem-export.ts), so combined.pem and certificate.p12 always match privkey.pem.
 */
export async function exportVersion(record: CertificateRecord, version: CertificateVersion, target: ExportTarget): Promise<ExportedPaths> {
  const files = pemFilesOf(version);
  const extraFiles: { name: 'combined.pem' | 'certificate.p12'; data: string | Uint8Array }[] = [];
  if (target.formats.includes('combined')) extraFiles.push({ name: 'combined.pem', data: combinedPem(files) });
  if (target.formats.includes('pkcs12')) {
    // Loaded only here: node-forge costs tens of milliseconds that no other command needs to pay.
    const { pkcs12 } = await import('../deploy/pkcs12.js');
    extraFiles.push({ name: 'certificate.p12', data: pkcs12(files, { password: target.pkcs12Password(), friendlyName: record.name }) });
  }
  return exportPem({ outDir: target.outDir, name: record.name, version: String(version.version), files, ...(extraFiles.length ? { extraFiles } : {}) });
}
