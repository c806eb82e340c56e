/**
 * Revisions as the backends hand them out: positive decimal integers (sqlite and redis counters, Consul's
 * ModifyIndex, Vault's KV versions, etcd's cluster revision). A caller's ifRev that is not one of those can
 * never match a stored entry, so backends answer "condition failed" without asking the server.
 */

/**
 * True when `rev` could be one of our revisions: no sign, no leading zero, at most `maxDigits` digits (15 by
 * default, so Number(rev) is exact; etcd's revisions are int64 and are kept as text, up to 18 digits).
 */
export function isRevision(rev: string, maxDigits = 15): boolean {
  return rev.length <= maxDigits && /^[1-9][0-9]*$/.test(rev);
}

/** `rev` as a number when it could be one of our revisions, else undefined. */
export function parseRevision(rev: string): number | undefined {
  return isRevision(rev) ? Number(rev) : undefined;
}
