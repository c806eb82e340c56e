import { combinedPem } from '../deploy/formats.js';
import type { ExportFormat } from '../deploy/formats.js';
import { DEFAULT_KEY_MODE, parseKeyMode, resolveGroup } from '../deploy/key-access.js';
import type { KeyAccess } from '../deploy/key-access.js';
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
  const keyAccess = await keyAccessOf(record.settings);
  return exportPem({ outDir: target.outDir, name: record.name, version: String(version.version), files, keyAccess, ...(extraFiles.length ? { extraFiles } : {}) });
}

/** The key files' access from the stored settings; the group is looked up on this host (ids differ across a fleet). */
export async function keyAccessOf(settings: Pick<CertificateRecord['settings'], 'keyGroup' | 'keyMode'>): Promise<KeyAccess> {
  return { mode: settings.keyMode === null ? DEFAULT_KEY_MODE : parseKeyMode(settings.keyMode), gid: settings.keyGroup === null ? null : await resolveGroup(settings.keyGroup) };
}
