import { createPrivateKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A certbot account as found under accounts/<CA host>/<directory path>/<id>/. */
export interface CertbotAccount {
  id: string;
  directoryUrl: string;
  /** The account URL at the CA (regr.json `uri`). */
  url: string;
  /** The contact email when regr.json still holds the registration body (certbot 2 keeps none): else null. */
  email: string | null;
  /** private_key.json (a JWK) as PKCS#8 PEM, the form acmectl stores account keys in. */
  keyPem: string;
  /** meta.json `creation_dt`, as ISO; null when absent. */
  createdAt: string | null;
}

/**
 * Reads the account `id` of the CA at `directoryUrl`. certbot keeps it at accounts/<host[:port]>/<path>/<id>
 * (https://acme-v02.api.letsencrypt.org/directory → accounts/acme-v02.api.letsencrypt.org/directory/<id>);
 * an account found elsewhere under accounts/ by its id is taken too (older certbots moved folders around).
 * Throws an Error saying what is missing.
 */
export function readCertbotAccount(configDir: string, directoryUrl: string, id: string): CertbotAccount {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`the account id "${id}" is not one certbot writes`);
  const dir = accountDirectory(configDir, directoryUrl, id);
  if (!dir) throw new Error(`certbot's account ${id} for ${directoryUrl} is not under ${join(configDir, 'accounts')}`);
  const regr = readJson(join(dir, 'regr.json')) as { uri?: unknown; body?: { contact?: unknown } };
  if (typeof regr.uri !== 'string' || !/^https?:\/\//.test(regr.uri)) throw new Error(`${join(dir, 'regr.json')} holds no account URL ("uri")`);
  const jwk = readJson(join(dir, 'private_key.json')) as JsonWebKey;
  let keyPem: string;
  try {
    keyPem = createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch {
    throw new Error(`${join(dir, 'private_key.json')} is not a private key (JWK) acmectl can use`);
  }
  const meta = existsSync(join(dir, 'meta.json')) ? (readJson(join(dir, 'meta.json')) as { creation_dt?: unknown }) : {};
  const created = typeof meta.creation_dt === 'string' ? new Date(meta.creation_dt) : null;
  return { id, directoryUrl, url: regr.uri, email: emailOf(regr.body?.contact), keyPem, createdAt: created && !Number.isNaN(created.getTime()) ? created.toISOString() : null };
}

function accountDirectory(configDir: string, directoryUrl: string, id: string): string | null {
  const accounts = join(configDir, 'accounts');
  let expected: string | null = null;
  try {
    const url = new URL(directoryUrl);
    expected = join(accounts, url.host, ...url.pathname.split('/').filter(Boolean), id);
  } catch {
    // not a URL: only the search below can find it
  }
  if (expected && existsSync(join(expected, 'regr.json'))) return expected;
  return findById(accounts, id, 6);
}

function findById(dir: string, id: string, depth: number): string | null {
  if (depth === 0) return null;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return null;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    if (!isDirectory(path)) continue;
    if (entry === id && existsSync(join(path, 'regr.json'))) return path;
    const found = findById(path, id, depth - 1);
    if (found) return found;
  }
  return null;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
}

/** The first mailto: contact of a registration body (older certbots kept it in regr.json). */
function emailOf(contact: unknown): string | null {
  if (!Array.isArray(contact)) return null;
  const mailto = contact.find((c): c is string => typeof c === 'string' && c.startsWith('mailto:'));
  return mailto ? decodeURIComponent(mailto.slice('mailto:'.length)) : null;
}
