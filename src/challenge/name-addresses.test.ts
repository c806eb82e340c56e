import { describe, expect, it } from 'vitest';
import { UsageError } from '../domain/errors.js';
import { dnsResolver, parseResolveOverrides } from './name-addresses.js';

describe('ACMECTL_RESOLVE', () => {
  it('maps names to IPv4 and IPv6 addresses (bare or bracketed); a name given twice gets both', () => {
    expect([...parseResolveOverrides('A.example:127.0.0.1, a.example:[::1],b.example:2001:db8::1')]).toEqual([
      ['a.example', [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]],
      ['b.example', [{ address: '2001:db8::1', family: 6 }]],
    ]);
    expect(parseResolveOverrides(undefined).size).toBe(0);
    expect(parseResolveOverrides(' ').size).toBe(0);
  });

  it.each(['a.example', 'a.example:', ':127.0.0.1', 'a.example:not-an-address', 'a.example:127.0.0.1:80'])('refuses %j (exit 2)', (text) => {
    expect(() => parseResolveOverrides(text)).toThrow(UsageError);
  });
});

describe('dnsResolver', () => {
  it('takes overridden names and IP addresses as they are, without asking DNS', async () => {
    const resolve = dnsResolver(parseResolveOverrides('www.example:192.0.2.7'), 1000);
    expect(await resolve('WWW.example')).toEqual({ name: 'WWW.example', addresses: [{ address: '192.0.2.7', family: 4 }], unresolved: null, overridden: true });
    expect(await resolve('2001:db8::2')).toEqual({ name: '2001:db8::2', addresses: [{ address: '2001:db8::2', family: 6 }], unresolved: null, overridden: false });
  });
});
