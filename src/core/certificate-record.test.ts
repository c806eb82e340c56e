import { describe, expect, it } from 'vitest';
import { checkCertificateName, defaultCertificateName } from './certificate-record.js';
import { parseIdentifiers } from '../domain/identifiers.js';

describe('default certificate names', () => {
  it('is the first name, and for IPv6 a valid name that still reads as the address', () => {
    const nameOf = (input: string) => checkCertificateName(defaultCertificateName(parseIdentifiers([input])));
    expect(nameOf('example.com')).toBe('example.com');
    expect(nameOf('127.0.0.1')).toBe('127.0.0.1');
    expect(nameOf('::1')).toBe('0--1');
    expect(nameOf('2001:db8::')).toBe('2001-db8--0');
    expect(nameOf('2001:db8::5')).toBe('2001-db8--5');
  });
});
