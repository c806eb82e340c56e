import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HISTORY_LIMIT, readCertificateFacts } from '../../core/certificate-record.js';
import type { CertificateVersion } from '../../core/certificate-record.js';
import { parseIdentifiers } from '../../domain/identifiers.js';
import type { Identifier } from '../../domain/identifiers.js';
import { pemCertificateBlocks } from '../../pki/pem.js';
import { readLineageArchive } from './archive.js';
import type { ArchivedVersion } from './archive.js';
import { confString, parseRenewalConf } from './renewal-conf.js';
import type { ConfSection } from './renewal-conf.js';

/** A certbot lineage read from its renewal configuration and archive, with its versions as acmectl stores them. */
export interface CertbotLineage {
  name: string;
  conf: ConfSection;
  identifiers: Identifier[];
  /** Newest first: [current, ...history] (at most 1 + HISTORY_LIMIT). */
  versions: CertificateVersion[];
  /** What was left out of the archive, and why. */
  notes: string[];
}

export type LineageReading = { ok: true; lineage: CertbotLineage } | { ok: false; name: string; reason: string; conf: ConfSection | null };

/**
 * Reads renewal/NAME.conf and archive/NAME/ under the certbot configuration directory. The archive is looked for
 * under `configDir` first (a copy of /etc/letsencrypt works), then where the configuration says (`archive_dir`).
 * The current version is the one live/NAME/cert.pem links to (certbot's own notion), else the newest.
 */
export function readLineage(configDir: string, name: string): LineageReading {
  const confPath = join(configDir, 'renewal', `${name}.conf`);
  let conf: ConfSection;
  try {
    conf = parseRenewalConf(readFileSync(confPath, 'utf8'));
  } catch (error) {
    return { ok: false, name, reason: `${confPath} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, conf: null };
  }
  const fail = (reason: string): LineageReading => ({ ok: false, name, reason, conf });
  const local = join(configDir, 'archive', name);
  const archiveDir = existsSync(local) ? local : confString(conf.values, 'archive_dir');
  if (!archiveDir) return fail(`there is no ${local}`);
  let archive;
  try {
    archive = readLineageArchive(archiveDir, join(configDir, 'live', name));
  } catch (error) {
    return fail(`its archive ${archiveDir} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const notes: string[] = [];
  if (archive.incomplete.length > 0) notes.push(`archive versions ${archive.incomplete.join(', ')} lack a file and are left out`);
  const complete = archive.versions;
  if (complete.length === 0) return fail(`its archive ${archiveDir} holds no complete version (certN.pem, chainN.pem, privkeyN.pem)`);
  const newest = complete[complete.length - 1]!;
  const live = complete.find((v) => v.number === archive.liveNumber) ?? newest;
  if (live !== newest) notes.push(`live/${name} uses version ${live.number}: the newer archive versions (up to ${newest.number}) are left out`);

  let current: CertificateVersion;
  let identifiers: Identifier[];
  try {
    current = versionOf(live);
  } catch (error) {
    return fail(`version ${live.number}: ${(error as Error).message}`);
  }
  try {
    identifiers = identifiersOf(current.certPem, name);
  } catch (error) {
    return fail((error as Error).message);
  }
  const history: CertificateVersion[] = [];
  const older = complete.filter((v) => v.number < live.number).reverse();
  for (const archived of older.slice(0, HISTORY_LIMIT)) {
    try {
      history.push(versionOf(archived));
    } catch (error) {
      notes.push(`archive version ${archived.number} is left out: ${(error as Error).message}`);
    }
  }
  if (older.length > HISTORY_LIMIT) notes.push(`${older.length - HISTORY_LIMIT} older versions stay in certbot's archive only (acmectl keeps ${HISTORY_LIMIT} earlier versions)`);
  return { ok: true, lineage: { name, conf, identifiers, versions: [current, ...history], notes } };
}

/**
 * One archived version as acmectl stores it: the key as PKCS#8 (what acmectl writes), checked to belong to the
 * certificate. certbot records no issue time: the certificate's notBefore stands for it.
 */
function versionOf(archived: ArchivedVersion): CertificateVersion {
  const [leaf] = pemCertificateBlocks(archived.certPem);
  if (!leaf) throw new Error(`cert${archived.number}.pem holds no certificate`);
  const certPem = `${leaf}\n`;
  const chainPem = pemCertificateBlocks(archived.chainPem).map((block) => `${block}\n`).join('');
  let keyPem: string;
  try {
    keyPem = createPrivateKey(archived.keyPem).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch {
    throw new Error(`privkey${archived.number}.pem is not a private key acmectl can read`);
  }
  const certificate = new X509Certificate(certPem);
  const spki = (key: ReturnType<typeof createPublicKey>) => key.export({ type: 'spki', format: 'der' });
  if (!spki(certificate.publicKey).equals(spki(createPublicKey(keyPem)))) throw new Error(`privkey${archived.number}.pem is not the key of cert${archived.number}.pem`);
  const facts = readCertificateFacts(certPem);
  return { version: archived.number, ...facts, issuedAt: facts.notBefore, certPem, chainPem, keyPem, fence: '0' };
}

/** The certificate's subject alternative names (certbot renews exactly these), the lineage's name first when it is one. */
function identifiersOf(certPem: string, name: string): Identifier[] {
  const names = (new X509Certificate(certPem).subjectAltName ?? '')
    .split(', ')
    .flatMap((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry)?.[1] ?? []);
  if (names.length === 0) throw new Error('the certificate names no DNS name or IP address');
  const identifiers = parseIdentifiers(names);
  const first = identifiers.findIndex((i) => i.value === name);
  return first > 0 ? [identifiers[first]!, ...identifiers.filter((_, index) => index !== first)] : identifiers;
}
