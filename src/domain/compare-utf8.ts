/** UTF-8 byte order (= code point order), the order SQLite, Redis and etcd list keys in. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
