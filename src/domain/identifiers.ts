import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { UsageError } from './errors.js';

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
      const same = earlier === input ? `"${input}"` : `"${earlier}" and "${input}" (both ${identifier.value})`;
      throw new UsageError(`duplicate name ${same}`, { hint: 'give each name once' });
    }
    seen.set(key, input);
    result.push(identifier);
  }
  return result;
}

export function parseIdentifier(input: string): Identifier {
  const raw = input.trim();
  if (raw === '') throw new UsageError('an empty domain name was given');
  const bracketless = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  const ipVersion = isIP(bracketless);
  if (ipVersion !== 0) return { type: 'ip', value: canonicalIp(bracketless, ipVersion) };

  if (raw.includes('*')) {
    throw new UsageError(`"${raw}" is a wildcard name, which HTTP-01 cannot validate`, {
      hint: 'a CA only issues wildcard certificates after a DNS-01 challenge; list the names you need instead (e.g. www.example.com api.example.com)',
    });
  }
  if (/[/:@\s]/.test(raw)) {
    throw new UsageError(`"${raw}" is not a domain name`, { hint: 'give bare names like example.com, without scheme, port or path' });
  }
  const withoutDot = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  // Checked before domainToASCII, whose WHATWG host parser would read "1.2.3" or "0x7f.1" as an IPv4 address.
  if (/^(?:[0-9]+|0x[0-9a-f]*)$/i.test(withoutDot.split('.').pop() ?? '')) {
    throw new UsageError(`"${raw}" is not a valid domain name: its last label is numeric`, {
      hint: 'IP addresses are written in full (e.g. 192.0.2.1)',
    });
  }
  const ascii = domainToASCII(withoutDot.toLowerCase());
  if (ascii === '') throw new UsageError(`"${raw}" is not a valid domain name`);
  if (ascii.length > MAX_NAME_LENGTH) {
    throw new UsageError(`"${shorten(raw)}" is too long: ${ascii.length} characters, at most ${MAX_NAME_LENGTH} allowed`);
  }
  const labels = ascii.split('.');
  if (labels.length < 2) {
    throw new UsageError(`"${raw}" is not a fully qualified domain name`, { hint: 'a public CA only issues for names like example.com' });
  }
  for (const label of labels) {
    if (label.length > MAX_LABEL_LENGTH) {
      throw new UsageError(`"${shorten(raw)}" has a label longer than ${MAX_LABEL_LENGTH} characters ("${shorten(label)}")`);
    }
    if (!LABEL.test(label)) {
      throw new UsageError(`"${raw}" is not a valid domain name: "${label}" may only hold letters, digits and inner hyphens`);
    }
  }
  return { type: 'dns', value: ascii };
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
