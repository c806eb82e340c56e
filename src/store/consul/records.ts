/**
 * What the consul store writes into Consul's values: the envelope in front of every entry and the lock record,
 * and the session TTL a lease gets.
 */
import type { Entry } from '../store.js';

/** One KV entry as Consul returns it, value decoded. */
export interface KvEntry {
  key: string;
  value: Buffer;
  modifyIndex: number;
  /** The session holding the key's lock, '' when none. */
  session: string;
}

/** Consul's default kv_max_value_size: 512 KiB per value. */
export const CONSUL_VALUE_LIMIT_BYTES = 512 * 1024;

/*
 * ENVELOPE: every store entry starts with one line of text, so `consul kv get` still shows a readable value:
 *   "acmectl:1 <write id: 16 hex digits> <expiresAt: epoch ms, 15 digits, 000000000000000 = never>\n"
 * The write id makes every write distinct (see store.ts); the fixed length makes the size limit one number.
 */
const ENVELOPE_PREFIX = 'acmectl:1 ';
export const ENVELOPE_BYTES = ENVELOPE_PREFIX.length + 16 + 1 + 15 + 1;
const ENVELOPE_HEADER = /^acmectl:1 ([0-9a-f]{16}) ([0-9]{15})\n$/;

/** The largest value the consul store takes: Consul's limit minus the envelope header. */
export const CONSUL_MAX_VALUE_BYTES = CONSUL_VALUE_LIMIT_BYTES - ENVELOPE_BYTES;

export interface StoredValue {
  value: Buffer;
  writeId: string;
  expiresAt: number | undefined;
}

/** What a lock record holds (JSON); an empty value means released. */
export interface LockRecord {
  owner: string;
  /** Decimal; null while the holder is still taking its fence. */
  fence: string | null;
  /** Epoch ms: the lease is over after this, whatever Consul's session says. */
  expiresAt: number;
  session: string;
  /** For people reading the KV store: which host and process holds it. */
  holder: string;
}

/** Consul's limits on a session TTL. */
const SESSION_TTL_MIN_S = 10;
const SESSION_TTL_MAX_S = 86_400;

export function envelopeHeader(writeId: string, expiresAt: number | undefined): Buffer {
  return Buffer.from(`${ENVELOPE_PREFIX}${writeId} ${String(expiresAt ?? 0).padStart(15, '0')}\n`, 'latin1');
}

/** The value and header of a stored entry, or null when it does not start with acmectl's header. */
export function unwrapValue(stored: Buffer): StoredValue | null {
  if (stored.length < ENVELOPE_BYTES) return null;
  const header = ENVELOPE_HEADER.exec(stored.subarray(0, ENVELOPE_BYTES).toString('latin1'));
  if (header === null) return null;
  const expiresAt = Number(header[2]);
  return { value: stored.subarray(ENVELOPE_BYTES), writeId: header[1]!, expiresAt: expiresAt === 0 ? undefined : expiresAt };
}

export function isExpired(stored: StoredValue): boolean {
  return stored.expiresAt !== undefined && stored.expiresAt <= Date.now();
}

export function toStoreEntry(stored: StoredValue, modifyIndex: number): Entry {
  const entry: Entry = { value: new Uint8Array(stored.value), rev: String(modifyIndex) };
  if (stored.expiresAt !== undefined) entry.expiresAt = stored.expiresAt;
  return entry;
}

export function parseLockRecord(value: Buffer): LockRecord | null {
  if (value.length === 0) return null;
  try {
    const record = JSON.parse(value.toString('utf8')) as Partial<LockRecord>;
    if (typeof record.owner !== 'string' || typeof record.expiresAt !== 'number' || typeof record.session !== 'string') return null;
    return { owner: record.owner, fence: typeof record.fence === 'string' ? record.fence : null, expiresAt: record.expiresAt, session: record.session, holder: String(record.holder ?? '') };
  } catch {
    return null;
  }
}

export function lockRecordBody(record: LockRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}

export function isLive(record: LockRecord | null): boolean {
  return record !== null && record.expiresAt > Date.now();
}

export function isHeldBy(record: LockRecord, entry: KvEntry, owner: string, fence: bigint, session: string): boolean {
  return entry.session === session && record.owner === owner && record.fence === String(fence);
}

/** Consul's session TTL for a lease of ttlMs, in whole seconds: at least 10 s, at most 24 h. */
export function sessionTtlOf(ttlMs: number): number {
  // The lease refreshes at ttlMs/3 and each refresh renews the session; past 24 h a session could lapse first.
  if (ttlMs > SESSION_TTL_MAX_S * 1000) {
    throw new RangeError(`consul store: lock ttlMs must be at most ${SESSION_TTL_MAX_S * 1000} (24 h, Consul's longest session)`);
  }
  return Math.max(SESSION_TTL_MIN_S, Math.ceil(ttlMs / 1000));
}
