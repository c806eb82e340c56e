import { execFile } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** `openssl verify` of an exported lineage against the CA's root (from Pebble's management port). */
export async function opensslVerify(lineageDir: string, rootPem: string, scratchDir: string): Promise<string> {
  const rootPath = join(scratchDir, `root-${Date.now()}.pem`);
  writeFileSync(rootPath, rootPem);
  const { stdout } = await exec('openssl', ['verify', '-CAfile', rootPath, '-untrusted', join(lineageDir, 'chain.pem'), join(lineageDir, 'cert.pem')]);
  return stdout.trim();
}

/** True when privkey.pem is the key of cert.pem (compared through openssl, not our own code). */
export async function keyMatchesCertificate(lineageDir: string): Promise<boolean> {
  const fromCert = await exec('openssl', ['x509', '-in', join(lineageDir, 'cert.pem'), '-noout', '-pubkey']);
  const fromKey = await exec('openssl', ['pkey', '-in', join(lineageDir, 'privkey.pem'), '-pubout']);
  return fromCert.stdout.trim() === fromKey.stdout.trim() && fromKey.stdout.includes('BEGIN PUBLIC KEY');
}

export function certificateOf(path: string): X509Certificate {
  return new X509Certificate(readFileSync(path));
}

/** "ec P-384", "rsa 2048", ... of a PEM private key file. */
export function describeKey(path: string): string {
  const key = createPublicKey(readFileSync(path));
  const details = key.asymmetricKeyDetails!;
  return key.asymmetricKeyType === 'ec' ? `ec ${details.namedCurve}` : `${key.asymmetricKeyType} ${details.modulusLength}`;
}
