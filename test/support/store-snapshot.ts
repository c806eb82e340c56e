import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';

/** Every store key with its revision: any write changes it. */
export async function storeRevisions(dbPath: string): Promise<Record<string, string>> {
  const revisions: Record<string, string> = {};
  if (!existsSync(dbPath)) return revisions;
  const store = await openStore(`sqlite:${dbPath}`);
  try {
    for await (const key of store.list('')) revisions[key] = (await store.get(key))!.rev;
  } finally {
    await store.close();
  }
  return revisions;
}

/**
 * Every store key with what a stored certificate is made of: for a certificate record its names, settings and
 * versions (serials), for any other key its revision. The note of a failed attempt (lastAttempt, updatedAt) is
 * not a change of what is stored: a refused certificate may be noted, never stored.
 */
export async function storedCertificates(dbPath: string): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  if (!existsSync(dbPath)) return snapshot;
  const store = await openStore(`sqlite:${dbPath}`);
  try {
    for await (const key of store.list('')) {
      const entry = (await store.get(key))!;
      if (!key.startsWith('certs/')) {
        snapshot[key] = entry.rev;
        continue;
      }
      const record = JSON.parse(Buffer.from(entry.value).toString('utf8')) as { identifiers: unknown; settings: unknown; current: { serial: string }; history: { serial: string }[] };
      snapshot[key] = JSON.stringify({ identifiers: record.identifiers, settings: record.settings, versions: [record.current, ...record.history].map((v) => v.serial) });
    }
  } finally {
    await store.close();
  }
  return snapshot;
}

/** Every path under dir with its content hash (files) or target (links), for before/after comparisons. */
export function treeSnapshot(dir: string): Record<string, string> {
  const snapshot: Record<string, string> = {};
  if (!existsSync(dir)) return snapshot;
  for (const entry of readdirSync(dir, { recursive: true }).map(String).sort()) {
    const path = join(dir, entry);
    const stat = lstatSync(path);
    snapshot[entry] = stat.isSymbolicLink()
      ? `-> ${readlinkSync(path)}`
      : stat.isDirectory()
        ? `dir ${(stat.mode & 0o777).toString(8)}`
        : `${(stat.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  }
  return snapshot;
}

/**
 * Every row of every table of a SQLite store, lock leases and fence counters included (which `store.list`
 * does not show): taking a lock is a write too. Read-only; null when the file does not exist.
 */
export function sqliteDump(dbPath: string): Record<string, unknown[]> | null {
  if (!existsSync(dbPath)) return null;
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[];
    return Object.fromEntries(tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}" ORDER BY 1`).all()]));
  } finally {
    db.close();
  }
}
