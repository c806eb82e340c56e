/**
 * A store path for a URL: each '/'-separated segment percent-encoded, so a key holding '?', '#', '%', a space or
 * non-ASCII stays one path (Consul and Vault decode it; '/' stays the separator): `a b/c?d` → `a%20b/c%3Fd`.
 */
export function encodePathSegments(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
