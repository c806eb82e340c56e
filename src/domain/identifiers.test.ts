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
    ['faß.de', { type: 'dns', value: 'xn--fa-hia.de' }],
    ['BÜCHER.example', { type: 'dns', value: 'xn--bcher-kva.example' }],
    ['u\u0308ber.example', { type: 'dns', value: 'xn--ber-goa.example' }],
    ['fe80::1', { type: 'ip', value: 'fe80::1' }],
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
    // Cut or rewritten by the URL host parser before: each must be refused, saying what is wrong.
    ['good.example.com\\evil.attacker.com', /"\\" cannot be part of a name/],
    ['evil.example.com#x', /"#" cannot be part of a name/],
    ['x.example.com?y', /"\?" cannot be part of a name/],
    ['ex%61mple.com', /"%" cannot be part of a name/],
    ['example.com\0', /control character \\u\{0000\}/],
    ['example.com\n', /control character \\u\{000a\}/],
    ['\u001b[31mred.example.com', /control character \\u\{001b\}/],
    ['ex\u200bample.com', /it contains the invisible character U\+200B/],
    ['ex\u00adample.com', /it contains the invisible character U\+00AD/],
    ['ex\u200dample.com', /it contains the invisible character U\+200D/],
    ['\ufeffexample.com', /it contains the invisible character U\+FEFF/],
    ['\uff45xample.com', /IDNA would turn "\uff45xample" into "example"/],
    ['\ufb01le.example', /IDNA would turn/],
    ['example\u3002com', /IDNA would turn "example\u3002com" into "example.com"/],
    [' example.com', /not a domain name/],
    ['example.com ', /not a domain name/],
    ['xn--a.example', /not a valid domain name/],
    ['fe80::1%eth0', /address with a zone \(%eth0\)/],
    ['[fe80::1%25eth0]', /address with a zone/],
    ['0.0.0.0', /unspecified address/],
    ['::', /unspecified address/],
    ['[::]', /unspecified address/],
    ['::ffff:0.0.0.0', /unspecified address/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['ff02::1', /multicast/],
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

describe('messages', () => {
  it('show control characters typed by the user as escapes, never raw', () => {
    expect(() => parseIdentifier('a\u202eb.example.com')).toThrow(/\\u\{202e\}/);
    expect(() => parseIdentifiers(['a.example.com\u0007', 'x'])).toThrow(expect.objectContaining({ message: expect.not.stringMatching(/\u0007/) }));
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
