import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';

/** One numbered set of files in certbot's archive/NAME/: certN.pem, chainN.pem, privkeyN.pem (fullchainN.pem is cert + chain). */
export interface ArchivedVersion {
  number: number;
  certPem: string;
  chainPem: string;
  keyPem: string;
}

export interface LineageArchive {
  /** Complete versions, oldest first. */
  versions: ArchivedVersion[];
  /** The version live/NAME/cert.pem links to; null when the link is missing or not certbot's. */
  liveNumber: number | null;
  /** Numbers of versions that lack one of their files (left out). */
  incomplete: number[];
}

/**
 * Reads a lineage's archive directory. Only reads: certbot's files are never changed. Throws a plain Error
 * (with the path) when the directory cannot be read; the caller turns it into a reason to leave the lineage alone.
 */
export function readLineageArchive(archiveDir: string, liveDir: string): LineageArchive {
  const names = new Set(readdirSync(archiveDir));
  const numbers = [...names].flatMap((name) => /^cert(\d+)\.pem$/.exec(name)?.[1] ?? []).map(Number).sort((a, b) => a - b);
  const versions: ArchivedVersion[] = [];
  const incomplete: number[] = [];
  for (const number of numbers) {
    if (!names.has(`chain${number}.pem`) || !names.has(`privkey${number}.pem`)) {
      incomplete.push(number);
      continue;
    }
    const read = (kind: string) => readFileSync(join(archiveDir, `${kind}${number}.pem`), 'utf8');
    versions.push({ number, certPem: read('cert'), chainPem: read('chain'), keyPem: read('privkey') });
  }
  return { versions, liveNumber: liveVersionNumber(liveDir), incomplete };
}

/** certbot's live/NAME/cert.pem is a relative link to ../../archive/NAME/certN.pem: N. */
function liveVersionNumber(liveDir: string): number | null {
  try {
    const match = /^cert(\d+)\.pem$/.exec(basename(readlinkSync(join(liveDir, 'cert.pem'))));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}
