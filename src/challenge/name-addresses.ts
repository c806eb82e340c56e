import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UsageError } from '../domain/errors.js';

/** One address a name points at, as a CA would connect to it. */
export interface NameAddress {
  address: string;
  family: 4 | 6;
}

/**
 * What this machine knows of a name's A and AAAA records. `unresolved` says why there is no address (no record,
 * a DNS error); `overridden` when the addresses come from ACMECTL_RESOLVE, not from DNS.
 */
export interface NameResolution {
  name: string;
  addresses: NameAddress[];
  unresolved: string | null;
  overridden: boolean;
}

/** Resolves a name (or passes an IP address through) to the addresses a CA would validate. */
export type NameResolver = (name: string) => Promise<NameResolution>;

/** The variable that points names at addresses for the webroot probe, like curl's --resolve (docs/cli.md#doctor). */
export const RESOLVE_VARIABLE = 'ACMECTL_RESOLVE';

/**
 * Parses ACMECTL_RESOLVE: `name:address` pairs separated by commas (`a.example:127.0.0.1,a.example:::1`); a
 * name given twice gets both addresses. Names are compared in lower case. UsageError (exit 2) for anything else.
 */
export function parseResolveOverrides(text: string | undefined): Map<string, NameAddress[]> {
  const overrides = new Map<string, NameAddress[]>();
  if (text === undefined || text.trim() === '') return overrides;
  for (const pair of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const colon = pair.indexOf(':');
    const name = colon > 0 ? pair.slice(0, colon).toLowerCase() : '';
    const address = colon > 0 ? pair.slice(colon + 1).replace(/^\[(.*)\]$/, '$1') : '';
    const family = isIP(address);
    if (name === '' || family === 0) {
      throw new UsageError(`${RESOLVE_VARIABLE}: "${pair}" is not NAME:ADDRESS`, { hint: `e.g. ${RESOLVE_VARIABLE}=www.example.com:192.0.2.10,www.example.com:2001:db8::10` });
    }
    overrides.set(name, [...(overrides.get(name) ?? []), { address, family: family as 4 | 6 }]);
  }
  return overrides;
}

/**
 * A resolver asking the system's DNS servers for A and AAAA records (as a CA asks public DNS; /etc/hosts is not
 * read), each question bounded by `timeoutMs`. Names in `overrides` are not asked for; IP addresses are their own.
 */
export function dnsResolver(overrides: Map<string, NameAddress[]>, timeoutMs: number): NameResolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  return async (name) => {
    const literal = isIP(name);
    if (literal !== 0) return { name, addresses: [{ address: name, family: literal as 4 | 6 }], unresolved: null, overridden: false };
    const given = overrides.get(name.toLowerCase());
    if (given) return { name, addresses: given, unresolved: null, overridden: true };
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const addresses: NameAddress[] = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
    ];
    return { name, addresses, unresolved: addresses.length > 0 ? null : whyUnresolved([v4, v6]), overridden: false };
  };
}

function whyUnresolved(answers: PromiseSettledResult<string[]>[]): string {
  const codes = answers.flatMap((a) => (a.status === 'rejected' ? [(a.reason as NodeJS.ErrnoException).code ?? 'error'] : []));
  // ENOTFOUND / ENODATA: the name, or a record of the type, does not exist. Anything else is the DNS failing.
  const failure = codes.find((code) => code !== 'ENOTFOUND' && code !== 'ENODATA');
  return failure === undefined ? 'it has no A or AAAA record' : `its A and AAAA records could not be looked up (${failure})`;
}
