/**
 * What the Vault store keeps in a secret's data, and how it reads Vault's KV version 2 answers: an entry
 * ({value, expiresAt?}, or the tombstone a delete writes) and a lock record ({owner, fence, expiresAt}).
 */

/** The latest version of a secret: version 0 when the key has no metadata; data null when deleted or destroyed. */
export interface LatestVersion {
  version: number;
  data: Record<string, unknown> | null;
}

export type EntryState =
  | { kind: 'live'; value: Uint8Array; expiresAt: number | undefined }
  | { kind: 'absent' }
  | { kind: 'expired' }
  /** Something at our path that acmectl did not write. */
  | { kind: 'foreign' };

export interface LockHolder {
  owner: string;
  fence: string;
  expiresAt: number;
}

export const TOMBSTONE = { deleted: true } as const;

export function entryState(data: Record<string, unknown> | null, now: number): EntryState {
  if (data === null || data.deleted === true) return { kind: 'absent' };
  const { value, expiresAt } = data;
  if (typeof value !== 'string') return { kind: 'foreign' };
  if (expiresAt !== undefined && !(typeof expiresAt === 'number' && Number.isSafeInteger(expiresAt))) return { kind: 'foreign' };
  if (expiresAt !== undefined && expiresAt <= now) return { kind: 'expired' };
  return { kind: 'live', value: new Uint8Array(Buffer.from(value, 'base64')), expiresAt };
}

export function lockHolder(data: Record<string, unknown> | null): LockHolder | null {
  if (data === null) return null;
  const { owner, fence, expiresAt } = data;
  if (typeof owner !== 'string' || typeof fence !== 'string' || typeof expiresAt !== 'number') return null;
  return { owner, fence, expiresAt };
}


/** `data.metadata.version` of a KV v2 read answer (present for deleted versions too), if there is one. */
export function metadataVersion(body: unknown): number | undefined {
  const version = (body as { data?: { metadata?: { version?: unknown } } } | undefined)?.data?.metadata?.version;
  return isVersion(version) ? version : undefined;
}

export function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
