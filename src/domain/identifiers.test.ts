import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { parseIdentifier, parseIdentifiers } from './identifiers.js';

describe('parseIdentifier', () => {
  it.each([
    ['example.com', { type: 'dns', value: 'example.com' }],
    ['WWW.Example.COM', { type: 'dns', value: 'www.example.com' }],
    ['example.com.', { type: 'dns', value: 'example.com' }],
    ['bücher.example', { type: 'dns', value: 'xn--bcher-kva.example' }],
    ['xn--bcher-kva.example', { type: 'dns', value: 'xn--bcher-kva.example' }],
    ['a-b.c-d.example.org', { type: 'dns', value: 'a-b.c-d.example.org' }],
    ['127.0.0.1', { type: 'ip', value: '127.0.0.1' }],
    ['::1', { type: 'ip', value: '::1' }],
    ['[2001:db8::1]', { type: 'ip', value: '2001:db8::1' }],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', { type: 'ip', value: '2001:db8::1' }],
  ])('%s', (input, expected) => {
    expect(parseIdentifier(input)).toEqual(expected);
  });

  it.each([
    ['*.example.com', /wildcard.*HTTP-01/],
    ['', /empty/],
    ['localhost', /fully qualified/],
    ['-bad.example.com', /not a valid domain/],
    ['bad-.example.com', /not a valid domain/],
    ['under_score.example.com', /not a valid domain/],
    ['https://example.com', /not a domain name/],
    ['example.com:443', /not a domain name/],
    ['exa mple.com', /not a domain name/],
    ['example..com', /not a valid domain/],
    [`${'a'.repeat(64)}.example.com`, /longer than 63/],
    [`${'abcdefghi.'.repeat(25)}example.com`, /too long/],
    ['example.123', /numeric/],
    ['1.2.3', /numeric/],
    ['0x7f.1', /numeric/],
  ])('refuses %j', (input, message) => {
    let error: unknown;
    try {
      parseIdentifier(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(message);
  });

  it('explains what to do about a wildcard', () => {
    expect(() => parseIdentifier('*.example.com')).toThrow(expect.objectContaining({ hint: expect.stringMatching(/DNS-01/) }));
  });
});

describe('parseIdentifiers', () => {
  it('keeps order and accepts a mix of names and addresses', () => {
    expect(parseIdentifiers(['b.example.com', 'a.example.com', '10.0.0.1'])).toEqual([
      { type: 'dns', value: 'b.example.com' },
      { type: 'dns', value: 'a.example.com' },
      { type: 'ip', value: '10.0.0.1' },
    ]);
  });
  it.each([
    [['example.com', 'example.com']],
    [['example.com', 'EXAMPLE.com.']],
    [['bücher.example', 'xn--bcher-kva.example']],
    [['::1', '0:0:0:0:0:0:0:1']],
  ])('refuses duplicates %j', (inputs) => {
    expect(() => parseIdentifiers(inputs)).toThrow(/duplicate name/);
  });
  it('refuses an empty list', () => {
    expect(() => parseIdentifiers([])).toThrow(UsageError);
  });
});
