/**
 * What the etcd store writes into etcd's values: the entry envelope (an expiry written in front of the value,
 * see store.ts for why) and the lock record, and the compares that judge them inside a transaction.
 */
import { encodeText, EtcdDataError, type Compare, type KeyValue } from './protocol.js';

const ENTRY_TAG = 'acmectl-entry:1:';
/** Expiry field of an entry written without ttlMs: later than any real instant. */
const NEVER = '9'.repeat(16);

export interface Envelope {
  value: Uint8Array;
  expiresAt: number | undefined;
}

export function expiryDigits(epochMs: number): string {
  return String(epochMs).padStart(16, '0');
}

/** base64 of tag + expiry digits + "\n" + value. */
export function sealEnvelope(value: Uint8Array, expiresAt: number | undefined): string {
  const header = Buffer.from(`${ENTRY_TAG}${expiresAt === undefined ? NEVER : expiryDigits(expiresAt)}\n`, 'latin1');
  return Buffer.concat([header, value]).toString('base64');
}

const ENVELOPE_HEADER = new RegExp(`^${ENTRY_TAG}(\\d{16})\\n`);
const ENVELOPE_HEADER_BYTES = ENTRY_TAG.length + 17;

export function openEnvelope(kv: KeyValue, key: string): Envelope {
  const stored = Buffer.from(kv.value ?? '', 'base64');
  const match = ENVELOPE_HEADER.exec(stored.subarray(0, ENVELOPE_HEADER_BYTES).toString('latin1'));
  if (match === null) {
    throw new EtcdDataError(`the etcd key for "${key}" holds a value acmectl did not write`);
  }
  const digits = match[1]!;
  const body = stored.subarray(ENVELOPE_HEADER_BYTES);
  return {
    value: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    expiresAt: digits === NEVER ? undefined : Number(digits),
  };
}

/** Compare: the entry's envelope expiry is after `now`. False for a missing key (etcd fails VALUE compares on it). */
export function liveAt(etcdKey: string, now: number): Compare {
  return { key: etcdKey, target: 'VALUE', result: 'GREATER', value: encodeText(`${ENTRY_TAG}${expiryDigits(now)}\x7f`) };
}

/** Compare: the entry's envelope expiry is at or before `now` ("\n" after the digits sorts before "\x7f"). */
export function expiredAt(etcdKey: string, now: number): Compare {
  return { key: etcdKey, target: 'VALUE', result: 'LESS', value: encodeText(`${ENTRY_TAG}${expiryDigits(now)}\x7f`) };
}

export function lockRecord(owner: string, expiresAt: number): string {
  return encodeText(`${owner} ${expiryDigits(expiresAt)}`);
}

/** Expiry of a lock record; 0 (long expired) for a record this version cannot read, so it can be taken over. */
export function lockExpiryOf(kv: KeyValue): number {
  const match = /^\S+ (\d{16})$/.exec(Buffer.from(kv.value ?? '', 'base64').toString('latin1'));
  return match === null ? 0 : Number(match[1]);
}
