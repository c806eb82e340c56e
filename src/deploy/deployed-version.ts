import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { readExportedVersion, readExportedVersionSync } from './pem-export.js';

/**
 * Which version of a certificate this host last deployed through issue/renew, kept in
 * `<out>/.versions/<name>/.deployed`. A fleet node compares it with the store: a newer version in the store
 * means another node renewed, so this node writes the files and runs its deploy hooks. An explicit rollback
 * (`acmectl export --version N`) points the link at an older version without touching this marker, so a
 * rollback is not undone by the next cron run.
 */
export async function readDeployedVersion(outDir: string, name: string): Promise<number | null> {
  const marker = await readFile(markerPath(outDir, name), 'utf8').catch(() => null);
  if (marker !== null && /^\d+\s*$/.test(marker)) return Number(marker);
  // Files exported before the marker existed: the version the link points to.
  const linked = await readExportedVersion(outDir, name);
  const version = linked === null ? NaN : Number.parseInt(linked, 10);
  return Number.isInteger(version) ? version : null;
}

/**
 * True when this host certainly has the files of `version` (or a later one) in place: the marker says so and the
 * stable link points to a version directory of acmectl's. Synchronous and cheap (four system calls), for the
 * renew that checks every certificate; false when unsure, and the caller takes the careful path.
 */
export function deployedAtLeast(outDir: string, name: string, version: number): boolean {
  let marker: string;
  try {
    marker = readFileSync(markerPath(outDir, name), 'utf8');
  } catch {
    return false;
  }
  return /^\d+\s*$/.test(marker) && Number(marker) >= version && readExportedVersionSync(outDir, name) !== null;
}

export async function recordDeployedVersion(outDir: string, name: string, version: number): Promise<void> {
  // Atomic but not fsynced: after a power loss the marker may be empty or gone, and then readDeployedVersion
  // falls back to the version the link points to (which was made durable before the link moved). Two fsyncs
  // fewer per certificate count when a new fleet host writes thousands.
  await writeFileAtomic(markerPath(outDir, name), `${version}\n`, 0o600, undefined, { syncFile: false, syncDirectory: false });
}

function markerPath(outDir: string, name: string): string {
  // A dot name: never taken for a version directory (those start with a letter or digit) and never pruned.
  return join(outDir, '.versions', name, '.deployed');
}
