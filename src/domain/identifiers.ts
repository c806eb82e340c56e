import { BlockList, isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { UsageError } from './errors.js';
import { visibleText } from './visible-text.js';

/** An ACME identifier (RFC 8555 §9.7.7; IP addresses per RFC 8738). */
export interface Identifier {
  type: 'dns' | 'ip';
  /** DNS names in lower-case punycode (A-labels); IPv6 addresses in canonical compressed form. */
  value: string;
}

const MAX_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
// LDH labels (RFC 1123); punycode A-labels ("xn--...") are LDH too.
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * Turns what the user typed into identifiers, refusing anything a CA would refuse later (after a rate
 * limit was spent): malformed names, wildcards (HTTP-01 cannot validate them), names that are too long,
 * duplicates. Unicode names (IDNs) become punycode. Throws UsageError (exit 2) naming the bad input.
 */
export function parseIdentifiers(inputs: readonly string[]): Identifier[] {
  if (inputs.length === 0) throw new UsageError('no domain given', { hint: 'usage: acmectl issue example.com [www.example.com ...]' });
  const seen = new Map<string, string>();
  const result: Identifier[] = [];
  for (const input of inputs) {
    const identifier = parseIdentifier(input);
    const key = `${identifier.type}:${identifier.value}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      const same = earlier === input ? `"${visibleText(input)}"` : `"${visibleText(earlier)}" and "${visibleText(input)}" (both ${identifier.value})`;
      throw new UsageError(`duplicate name ${same}`, { hint: 'give each name once' });
    }
    seen.set(key, input);
    result.push(identifier);
  }
  return result;
}

/**
 * One name or address, parsed strictly: what is ordered is exactly what was typed, up to letter case, a final
 * dot and the IDNA form of real Unicode labels. Nothing is cut, dropped or mapped: a backslash, `#`, `?`, `%`, a
 * control character, a zero-width space or a soft hyphen (which IDNA silently removes), full-width letters (which
 * it maps to ASCII) and the like are refused, naming what is wrong.
 */
export function parseIdentifier(input: string): Identifier {
  const shown = `"${visibleText(shorten(input))}"`;
  if (input === '') throw new UsageError('an empty domain name was given');
  const control = /\p{Cc}/u.exec(input);
  if (control) throw new UsageError(`${shown} is not a domain name: it contains the control character ${visibleText(control[0])}`);
  const address = parseAddress(input, shown);
  if (address) return address;
  // Zero-width characters, soft hyphens, bidi controls, byte-order marks: invisible in the quoted name, so named.
  const invisible = /\p{Cf}/u.exec(input);
  if (invisible) {
    throw new UsageError(`${shown} is not a valid domain name: it contains the invisible character ${codePoint(invisible[0])}`, {
      hint: 'type the name exactly as it is registered, without invisible or look-alike characters',
    });
  }

  if (input.includes('*')) {
    throw new UsageError(`${shown} is a wildcard name, which HTTP-01 cannot validate`, {
      hint: 'a CA only issues wildcard certificates after a DNS-01 challenge; list the names you need instead (e.g. www.example.com api.example.com)',
    });
  }
  if (/[/:@\s]/.test(input)) {
    throw new UsageError(`${shown} is not a domain name`, { hint: 'give bare names like example.com, without scheme, port or path' });
  }
  const foreign = /[\x00-\x7f]/.exec(input.replace(/[A-Za-z0-9.-]/g, ''));
  if (foreign) {
    throw new UsageError(`${shown} is not a valid domain name: "${foreign[0]}" cannot be part of a name`, { hint: NAME_CHARACTERS });
  }
  const withoutDot = input.endsWith('.') ? input.slice(0, -1) : input;
  // Checked before domainToASCII, whose WHATWG host parser would read "1.2.3" or "0x7f.1" as an IPv4 address.
  if (/^(?:[0-9]+|0x[0-9a-f]*)$/i.test(withoutDot.split('.').pop() ?? '')) {
    throw new UsageError(`${shown} is not a valid domain name: its last label is numeric`, {
      hint: 'IP addresses are written in full (e.g. 192.0.2.1)',
    });
  }
  const lower = withoutDot.toLowerCase();
  const ascii = domainToASCII(lower);
  if (ascii === '') throw new UsageError(`${shown} is not a valid domain name`, { hint: NAME_CHARACTERS });
  checkUnchangedByIdna(lower.split('.'), ascii.split('.'), shown);
  if (ascii.length > MAX_NAME_LENGTH) {
    throw new UsageError(`${shown} is too long: ${ascii.length} characters, at most ${MAX_NAME_LENGTH} allowed`);
  }
  const labels = ascii.split('.');
  if (labels.length < 2) {
    throw new UsageError(`${shown} is not a fully qualified domain name`, { hint: 'a public CA only issues for names like example.com' });
  }
  for (const label of labels) {
    if (label.length > MAX_LABEL_LENGTH) {
      throw new UsageError(`${shown} has a label longer than ${MAX_LABEL_LENGTH} characters ("${shorten(label)}")`);
    }
    if (!LABEL.test(label)) {
      throw new UsageError(`${shown} is not a valid domain name: "${visibleText(shorten(label))}" may only hold letters, digits and inner hyphens`);
    }
  }
  return { type: 'dns', value: ascii };
}

const NAME_CHARACTERS = 'a name holds letters, digits, hyphens and dots (or Unicode letters of an internationalised name)';

/**
 * IDNA (UTS #46) maps characters before encoding: it drops soft hyphens and zero-width characters, turns
 * full-width letters and ligatures into ASCII, and "。" into a dot. Each label must come out as it went in: an
 * ASCII label unchanged, a Unicode label as the A-label of that very label (in normalisation form C).
 */
function checkUnchangedByIdna(typed: string[], encoded: string[], shown: string): void {
  const decoded = domainToUnicode(encoded.join('.')).split('.');
  const changed = typed.findIndex((label, index) => {
    if (decoded.length !== typed.length) return true;
    return /^[\x00-\x7f]*$/.test(label) ? encoded[index] !== label : decoded[index] !== label.normalize('NFC');
  });
  if (changed === -1) return;
  const label = typed[changed]!;
  const after = decoded.length === typed.length ? decoded[changed]! : decoded.join('.');
  const lost = [...new Set([...label].filter((c) => !after.includes(c)))].slice(0, 5);
  const which = lost.length > 0 ? ` (${lost.map(codePoint).join(', ')} ${lost.length === 1 ? 'is' : 'are'} not kept)` : '';
  throw new UsageError(`${shown} is not a valid domain name: IDNA would turn "${visibleText(label)}" into "${visibleText(after)}"${which}`, {
    hint: 'type the name exactly as it is registered, without invisible or look-alike characters',
  });
}

function codePoint(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

const UNSPECIFIED = new BlockList();
UNSPECIFIED.addAddress('0.0.0.0', 'ipv4');
UNSPECIFIED.addAddress('::', 'ipv6');
const MULTICAST = new BlockList();
MULTICAST.addSubnet('224.0.0.0', 4, 'ipv4');
MULTICAST.addSubnet('ff00::', 8, 'ipv6');

/** An IP address identifier (RFC 8738), or null when the input is not written as an address. */
function parseAddress(input: string, shown: string): Identifier | null {
  const bracketless = /^\[.*\]$/.test(input) ? input.slice(1, -1) : input;
  const zone = bracketless.indexOf('%');
  if (zone !== -1 && isIP(bracketless.slice(0, zone)) === 6) {
    throw new UsageError(`${shown} is an address with a zone (${visibleText(bracketless.slice(zone))}), which only means something on this machine`, {
      hint: 'a certificate names an address without a zone; a CA cannot reach a link-local address anyway',
    });
  }
  const version = isIP(bracketless);
  if (version === 0) return null;
  const type = version === 4 ? 'ipv4' : 'ipv6';
  if (UNSPECIFIED.check(bracketless, type)) throw new UsageError(`${shown} is the unspecified address, which names no host`);
  if (MULTICAST.check(bracketless, type)) throw new UsageError(`${shown} is a multicast address, which names no single host`);
  return { type: 'ip', value: canonicalIp(bracketless, version) };
}

function canonicalIp(address: string, version: number): string {
  if (version === 4) return address;
  // The URL parser gives the RFC 5952 form, so "::0001" and "::1" count as the same identifier.
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** What a request adds to and removes from a certificate's identifiers (order does not matter). */
export function identifierChanges(stored: readonly Identifier[], requested: readonly Identifier[]): { added: Identifier[]; removed: Identifier[] } {
  const key = (i: Identifier): string => `${i.type}:${i.value}`;
  const storedKeys = new Set(stored.map(key));
  const requestedKeys = new Set(requested.map(key));
  return { added: requested.filter((i) => !storedKeys.has(key(i))), removed: stored.filter((i) => !requestedKeys.has(key(i))) };
}

export function sameIdentifiers(a: readonly Identifier[], b: readonly Identifier[]): boolean {
  const { added, removed } = identifierChanges(a, b);
  return added.length === 0 && removed.length === 0;
}
