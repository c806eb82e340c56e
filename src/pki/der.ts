/**
 * The few DER encodings (ITU-T X.690) a certificate signing request needs: a TLV with its definite length, and
 * the universal types built on it. Values are encoded as given; the caller builds the structure.
 */

/** Tag, length, value. `tag` is the whole identifier octet (class, constructed bit and number). */
export function tlv(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodedLength(value.length), value]);
}

/** X.690 §8.1.3: short form below 128, else 0x80 + the count of length octets, then the length big-endian. */
function encodedLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(0x30, Buffer.concat(items));
export const set = (...items: Uint8Array[]): Buffer => tlv(0x31, Buffer.concat(items));
export const octetString = (value: Uint8Array): Buffer => tlv(0x04, value);
export const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);
/** An INTEGER of a small non-negative number (a version). */
export const smallInteger = (value: number): Buffer => tlv(0x02, Buffer.from([value]));
/** A BIT STRING of whole octets (no unused bits). */
export const bitString = (value: Uint8Array): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), value]));
/** A context-specific tag [n]: constructed (wrapping encodings) or primitive (IMPLICIT over a primitive type). */
export const contextTag = (n: number, value: Uint8Array, constructed: boolean): Buffer => tlv(0x80 | (constructed ? 0x20 : 0) | n, value);

/** An OBJECT IDENTIFIER from its dotted form (X.690 §8.19). */
export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const octets: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const base128: number[] = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) base128.unshift(0x80 | (value & 0x7f));
    octets.push(...base128);
  }
  return tlv(0x06, Buffer.from(octets));
}
